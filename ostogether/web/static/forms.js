// Nothing typed is lost. A form marked data-keep keeps a draft of its text fields in the
// tab's sessionStorage while it differs from what the server sent: another form on the
// page (Move, Drop, Up, Down on an issue) reloads the page, and the draft comes back.
// Leaving the page by a link or closing it with unsaved text asks first. Without a
// script, the server still keeps what was typed when a form is refused.
(function () {
  "use strict";
  var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-keep]"));
  if (!forms.length) { return; }
  var store;
  try { store = window.sessionStorage; } catch (e) { return; }
  // The two sentences come from the page, in its language (base.html).
  var script = document.getElementById("forms-script");
  var said = function (name, english) {
    return (script && script.getAttribute("data-draft-" + name)) || english;
  };
  var TEXT = /^(text|email|url|search|date|time|datetime-local|number|tel)$/;
  var submitting = false;

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (e) {
      return e.name && e.name !== "csrf_token" &&
        (e.tagName === "TEXTAREA" || (e.tagName === "INPUT" && TEXT.test(e.type)));
    });
  }
  function values(form) {
    var out = {};
    fields(form).forEach(function (e) { out[e.name] = e.value; });
    return JSON.stringify(out);
  }
  function key(form) { return "draft:" + location.pathname + ":" + form.getAttribute("data-keep"); }
  function put(form, json) {
    var v = JSON.parse(json);
    fields(form).forEach(function (e) { if (Object.prototype.hasOwnProperty.call(v, e.name)) { e.value = v[e.name]; } });
  }

  forms.forEach(function (form) {
    var initial = values(form);
    form.setAttribute("data-initial", initial);
    var draft = store.getItem(key(form));
    if (draft && draft !== initial) {
      put(form, draft);
      var note = document.createElement("p");
      note.className = "notice draft-note";
      note.setAttribute("role", "status");
      note.textContent = said("back", "What you typed here and had not saved is back.") + " ";
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "secondary small";
      discard.textContent = said("discard", "Discard it");
      discard.addEventListener("click", function () {
        store.removeItem(key(form));
        put(form, initial);
        note.parentNode.removeChild(note);
      });
      note.appendChild(discard);
      form.parentNode.insertBefore(note, form);
    }
    form.addEventListener("input", function () {
      var now = values(form);
      if (now === initial) { store.removeItem(key(form)); } else { store.setItem(key(form), now); }
    });
    form.addEventListener("submit", function () { store.removeItem(key(form)); });
  });

  // Any form sent from this page: the drafts stay in storage, so there is nothing to ask.
  document.addEventListener("submit", function () { submitting = true; }, true);
  window.addEventListener("beforeunload", function (event) {
    if (submitting) { return; }
    var dirty = forms.some(function (f) { return values(f) !== f.getAttribute("data-initial"); });
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
}());
