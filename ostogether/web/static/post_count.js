// Counts a social post's text as its network does, while it is typed. The server counts
// again when the post is saved, and its count decides (ostogether/social/text.py); this
// file follows the same rules, so that both agree (tests/social/test_social_counter.py
// types strings in Chromium and compares the two). Without a script the page shows the
// server's count after saving.
//
// - X: twitter-text v3, ported from its parseTweet: NFC, every address 23 (also one
//   written without https://), emoji sequences 2, code points weighted by range. The
//   rules' data (x_text.js) is made from the library the server uses.
// - Mastodon: grapheme clusters, every http(s) address 23, @user@instance as @user.
// - Bluesky: grapheme clusters of the text as posted (each address shown shortened).
// - LinkedIn, Facebook: UTF-16 code units.
(function () {
  "use strict";
  var out = document.getElementById("text-count");
  var box = document.getElementById("text");
  if (!out || !box || !out.querySelector(".count-number")) { return; }
  var network = out.getAttribute("data-network");
  var limit = parseInt(out.getAttribute("data-limit"), 10);
  var X = window.OSTOGETHER_X;
  if (network === "x" && !X) { return; }  // the data did not load: the server counts
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter("en", {granularity: "grapheme"}) : null;
  if ((network === "mastodon" || network === "bluesky") && !segmenter) { return; }

  // Python's str.strip() and the regex module's \s and \w, as the server applies them.
  var SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var STRIP = new RegExp("^[" + SPACE + "]+|[" + SPACE + "]+$", "g");
  var WS = "\\t\\n\\x0b\\x0c\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var W = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u200c\\u200d";

  // What the server keeps of the box's text before it counts (social/posts.py _fitting).
  function kept(text) {
    return text.replace(/\r\n/g, "\n").normalize("NFC").replace(STRIP, "");
  }
  function codePoints(text) { return Array.from(text); }
  function graphemes(text) {
    var n = 0, it = segmenter.segment(text)[Symbol.iterator]();
    while (!it.next().done) { n += 1; }
    return n;
  }

  // ------------------------------------------------------- http(s) addresses (text.urls)
  var URL_RE = new RegExp("https?://[^" + WS + "<>\"'`]+", "gi");
  var TRAILING = ".,;:!?…'\"’”";
  function urls(text) {  // [start, end] in UTF-16 units
    var found = [], m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text)) !== null) {
      var start = m.index, end = start + m[0].length;
      while (end > start && TRAILING.indexOf(text.charAt(end - 1)) >= 0) { end -= 1; }
      var candidate = text.slice(start, end);
      while (candidate.charAt(candidate.length - 1) === ")" &&
             count(candidate, ")") > count(candidate, "(")) {
        candidate = candidate.slice(0, -1);
        end -= 1;
      }
      if (codePoints(candidate).length > "https://".length) { found.push([start, end]); }
    }
    return found;
  }
  function count(text, ch) { return text.split(ch).length - 1; }
  function replaceUrls(text, by) {
    var parts = [], last = 0;
    urls(text).forEach(function (span) {
      parts.push(text.slice(last, span[0]), by(text.slice(span[0], span[1])));
      last = span[1];
    });
    parts.push(text.slice(last));
    return parts.join("");
  }

  // ------------------------------------------------------------------- Mastodon, Bluesky
  var REMOTE = new RegExp("(?<![" + W + "@])(@[" + W + "]+)@[" + W + ".-]+[" + W + "]", "gu");
  function mastodon(text) {
    var counted = replaceUrls(text, function () { return "xxxxxxxxxxxxxxxxxxxxxxx"; });
    return graphemes(counted.replace(REMOTE, "$1"));
  }
  function blueskyShown(text) {
    return replaceUrls(text, function (url) {
      var bare = codePoints(url.slice(url.indexOf("://") + 3));
      return bare.length <= 30 ? bare.join("") : bare.slice(0, 27).join("") + "...";
    });
  }

  // ------------------------------------------------------------------ X (twitter-text v3)
  function rx(spec, extra) {
    var source = spec.source.split("#{gtld}").join(X.gtld).split("#{cctld}").join(X.cctld);
    return new RegExp(source, spec.flags + (extra || ""));
  }
  var X_URL = X && rx(X.extractUrl, "g");
  var X_NO_PROTOCOL_BEFORE = X && rx(X.invalidUrlWithoutProtocolPrecedingChars);
  var X_ASCII_DOMAIN = X && rx(X.validAsciiDomain, "g");
  var X_TCO = X && rx(X.validTcoUrl);
  var X_INVALID = X && rx(X.invalidChars);
  var EMOJI = X ? new Set(X.emojiSequences.split("|")) : null;
  var EMOJI_LONGEST = X ? X.emojiSequences.split("|").reduce(function (n, e) {
    return Math.max(n, codePoints(e).length);
  }, 0) : 0;

  // Python's "idna" codec (IDNA 2003), which the library asks whether a domain can be
  // written in ASCII: each label of 1 to 63 characters once mapped (nameprep, here with
  // JavaScript's case mapping and NFKC) and written in punycode, with no prohibited
  // character (RFC 3454 tables C.1.2 to C.9) and right-to-left labels kept whole.
  var IDNA_DOTS = /[.\u3002\uff0e\uff61]/u;
  var MAPPED_OUT = /[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]/gu;
  var PROHIBITED = /[\x80-\xa0\u0340\u0341\u06dd\u070f\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2063\u206a-\u206f\u2ff0-\u2ffb\u3000\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\ufeff\ufff9-\uffff\u{1d173}-\u{1d17a}\u{e0001}\u{e0020}-\u{e007f}\u{f0000}-\u{10ffff}]/u;
  var RTL = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;
  var LTR = /\p{L}/u;
  function punycodeLength(label) {  // the length of RFC 3492's encoding of label
    var cps = codePoints(label).map(function (c) { return c.codePointAt(0); });
    var basic = cps.filter(function (c) { return c < 0x80; }).length;
    var out = basic + (basic > 0 ? 1 : 0), n = 128, delta = 0, bias = 72, h = basic;
    while (h < cps.length) {
      var m = Math.min.apply(null, cps.filter(function (c) { return c >= n; }));
      delta += (m - n) * (h + 1);
      n = m;
      for (var j = 0; j < cps.length; j++) {
        if (cps[j] < n) { delta += 1; }
        if (cps[j] === n) {
          var q = delta;
          for (var k = 36; ; k += 36) {
            var t = k <= bias ? 1 : (k >= bias + 26 ? 26 : k - bias);
            if (q < t) { break; }
            out += 1;
            q = Math.floor((q - t) / (36 - t));
          }
          out += 1;
          bias = adapt(delta, h + 1, h === basic);
          delta = 0;
          h += 1;
        }
      }
      delta += 1;
      n += 1;
    }
    return out;
  }
  function adapt(delta, points, first) {
    delta = first ? Math.floor(delta / 700) : Math.floor(delta / 2);
    delta += Math.floor(delta / points);
    var k = 0;
    while (delta > 455) { delta = Math.floor(delta / 35); k += 36; }
    return k + Math.floor(36 * delta / (delta + 38));
  }
  function labelOk(label) {
    if (/^[\x00-\x7f]*$/.test(label)) { return label.length > 0 && label.length < 64; }
    label = label.replace(MAPPED_OUT, "").toLowerCase().normalize("NFKC");
    var cps = codePoints(label);
    for (var i = 0; i < cps.length; i++) {
      var cp = cps[i].codePointAt(0);
      if (PROHIBITED.test(cps[i]) || (cp > 0xffff && (cp & 0xfffe) === 0xfffe)) { return false; }
    }
    if (cps.some(function (c) { return RTL.test(c); })) {
      if (cps.some(function (c) { return LTR.test(c) && !RTL.test(c); })) { return false; }
      if (!RTL.test(cps[0]) || !RTL.test(cps[cps.length - 1])) { return false; }
    }
    if (/^[\x00-\x7f]*$/.test(label)) { return label.length > 0 && label.length < 64; }
    if (label.slice(0, 4) === "xn--") { return false; }
    return 4 + punycodeLength(label) < 64;
  }
  function validIdna(domain) {
    if (/^[\x00-\x7f]*$/.test(domain)) {
      var parts = domain.split(".");
      return parts.every(function (l, i) {
        return i === parts.length - 1 ? l.length < 64 : l.length > 0 && l.length < 64;
      });
    }
    var labels = domain.split(IDNA_DOTS);
    if (labels.length && labels[labels.length - 1] === "") { labels.pop(); }
    return labels.every(labelOk);
  }

  // twitter-text's extractUrlsWithIndices; indices in code points, as the server's.
  function xUrls(text) {
    if (text.indexOf(".") < 0) { return []; }
    var found = [], m;
    var toCp = function (i) { return codePoints(text.slice(0, i)).length; };
    X_URL.lastIndex = 0;
    while ((m = X_URL.exec(text)) !== null) {
      var before = m[2], url = m[3], protocol = m[4], domain = m[5], path = m[7];
      var end = m.index + m[0].length, start = end - url.length;
      // (The library also refuses an address longer than 4096 characters; a post is
      // never that long.)
      if (!validIdna(domain)) { continue; }
      if (!protocol) {
        if (X_NO_PROTOCOL_BEFORE.test(before || "")) { continue; }
        var last = null, d;
        X_ASCII_DOMAIN.lastIndex = 0;
        while ((d = X_ASCII_DOMAIN.exec(domain)) !== null) {
          last = {url: d[0], start: start + d.index, end: start + d.index + d[0].length};
          found.push(last);
        }
        if (last === null) { continue; }
        if (path) {
          last.url = url.split(domain).join(last.url);
          last.end = end;
        }
      } else {
        var tco = X_TCO.exec(url);
        if (tco) {
          if (tco[1] && tco[1].length > 40) { continue; }
          url = tco[0];
          end = start + url.length;
        }
        found.push({url: url, start: start, end: end});
      }
    }
    return found.map(function (f) {
      return {start: toCp(f.start), length: codePoints(f.url).length};
    });
  }
  function emojiSingle(cp) {
    var ranges = X.emojiSingles;
    for (var i = 0; i < ranges.length; i++) {
      if (cp >= ranges[i][0] && cp <= ranges[i][1]) { return true; }
    }
    return false;
  }
  function xEmoji(cps) {  // start (code point) -> length, as the library's finditer
    var at = {}, i = 0;
    while (i < cps.length) {
      var len = 0;
      for (var k = Math.min(EMOJI_LONGEST, cps.length - i); k >= 2 && !len; k--) {
        if (EMOJI.has(cps.slice(i, i + k).join(""))) { len = k; }
      }
      if (!len && emojiSingle(cps[i].codePointAt(0))) { len = 1; }
      if (len) { at[i] = len; i += len; } else { i += 1; }
    }
    return at;
  }
  function weight(cp) {
    var ranges = X.config.ranges;
    for (var i = 0; i < ranges.length; i++) {
      if (cp >= ranges[i].start && cp <= ranges[i].end) { return ranges[i].weight; }
    }
    return X.config.defaultWeight;
  }
  function x(text) {
    var c = X.config;
    text = text.normalize("NFC").replace(/\r\n|\r/g, "\n");
    var cps = codePoints(text), urlAt = {}, emojiAt = xEmoji(cps);
    xUrls(text).forEach(function (u) { urlAt[u.start] = u.length; });
    var total = 0, valid = true;
    for (var i = 0; i < cps.length; i++) {
      if (urlAt[i] !== undefined) {
        total += c.transformedURLLength * c.scale;
        i += urlAt[i] - 1;
      } else if (c.emojiParsingEnabled && emojiAt[i] !== undefined) {
        total += c.defaultWeight;
        i += emojiAt[i] - 1;
      } else {
        total += weight(cps[i].codePointAt(0));
      }
      if (valid) { valid = !X_INVALID.test(cps[i]); }
    }
    var length = Math.floor(total / c.scale);
    return {length: length, fits: valid && length > 0 && length <= Math.min(limit, c.maxWeightedTweetLength),
            refused: !valid};
  }

  function measure(text) {
    text = kept(text);
    var length;
    if (network === "x") { return x(text); }
    if (network === "mastodon") {
      length = mastodon(text);
    } else if (network === "bluesky") {
      var shown = blueskyShown(text);
      length = graphemes(shown);
      return {length: length, fits: length > 0 && length <= limit &&
              new TextEncoder().encode(shown).length <= 3000};
    } else {
      length = text.length;
    }
    return {length: length, fits: length > 0 && length <= limit};
  }

  var number = out.querySelector(".count-number");
  var over = out.querySelector(".count-over");
  var when = out.querySelector(".count-when");
  var name = out.getAttribute("data-name");
  var unit = out.getAttribute("data-unit");
  // The words, in the page's language (templates/editors/social_post.html).
  function said(attribute, english) { return out.getAttribute(attribute) || english; }
  var tooLong = said("data-too-long", "too long");
  var refused = said("data-refused", name + " refuses a character in it");
  var counting = said("data-counting", "(counted as you type; the server counts again when you save)");
  var counts = said("data-counts", name + " counts {count} of " + limit + " " + unit);
  // A screen reader hears the count once typing pauses, not at every key.
  var spoken = document.createElement("span");
  spoken.className = "visually-hidden";
  spoken.setAttribute("aria-live", "polite");
  out.parentNode.insertBefore(spoken, out.nextSibling);
  var pause = null;

  function show() {
    var m = measure(box.value);
    number.textContent = String(m.length);
    over.textContent = m.refused ? " — " + refused :
      (m.fits ? "" : (m.length > 0 ? " — " + tooLong : ""));
    out.classList.toggle("error", !m.fits && m.length > 0);
    when.textContent = counting;
    window.clearTimeout(pause);
    pause = window.setTimeout(function () {
      spoken.textContent = counts.replace("{count}", String(m.length)) + (m.fits ? "" : ", " + tooLong);
    }, 1000);
  }
  box.addEventListener("input", show);
  show();
}());
