/* The site's few behaviours, bound by data attributes: no inline scripts or event handlers, so the
   Content Security Policy needs no 'unsafe-inline' (marketplace/web_security.py). Each page works
   without this file; it only adds confirmations, copy buttons, progress and live refreshes. */
(function () {
  "use strict";

  // <form data-confirm="question">: ask before an irreversible action is posted. On yes the form
  // carries confirmed=1, so the server acts at once instead of showing its own confirmation page
  // (the page a client without JavaScript gets: marketplace/confirmation.py).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (!question) { return; }
    if (!window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (!form.querySelector('input[name="confirmed"]')) {
      var confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirmed";
      confirmed.value = "1";
      form.appendChild(confirmed);
    }
  }, true);

  // <input data-select-on-focus>: the whole value is selected for copying.
  document.addEventListener("focusin", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-select-on-focus")) {
      event.target.select();
    }
  });

  // <button data-copy-target="id" data-copied-label="...">: copy the input's value.
  function bindCopyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.getAttribute("data-copy-target"));
        if (!input) { return; }
        function done() { button.textContent = button.getAttribute("data-copied-label") || button.textContent; }
        input.select();
        if (navigator.clipboard) {
          navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  // <meta data-reload-after="seconds">: the page reloads itself (a payment being processed).
  function scheduleReload() {
    var marker = document.querySelector("[data-reload-after]");
    if (!marker) { return; }
    var seconds = parseInt(marker.getAttribute("data-reload-after"), 10) || 15;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }

  // #verification-progress[data-progress-url]: poll until the verification is done, then reload.
  function pollVerification() {
    var box = document.getElementById("verification-progress");
    if (!box || !window.fetch) { return; }
    var status = document.getElementById("progress-status");
    var suffix = box.getAttribute("data-progress-note") || "";
    function poll() {
      fetch(box.getAttribute("data-progress-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && data.done) { window.location.reload(); return; }
          if (data && status) { status.textContent = data.label + " · " + suffix; }
          window.setTimeout(poll, 2000);
        }, function () { window.setTimeout(poll, 2000); });
    }
    window.setTimeout(poll, 2000);
  }

  // [data-regions-url]: province, city and district selects (shown only with JavaScript) fill the
  // region field, which also takes a typed name or code without them.
  function bindRegionPicker() {
    var picker = document.querySelector("[data-regions-url]");
    var hidden = document.getElementById("region_code");
    var p = document.getElementById("region-province"), c = document.getElementById("region-city"),
        d = document.getElementById("region-district");
    if (!picker || !hidden || !p || !c || !d || !window.fetch) { return; }
    function fill(select, items, placeholder) {
      select.innerHTML = "";
      var first = document.createElement("option"); first.value = ""; first.textContent = placeholder; select.appendChild(first);
      items.forEach(function (it) {
        var o = document.createElement("option"); o.value = it.code; o.textContent = it.name; select.appendChild(o);
      });
    }
    fetch(picker.getAttribute("data-regions-url")).then(function (r) { return r.json(); }).then(function (tree) {
      picker.hidden = false;
      fill(p, tree, p.options[0].textContent);
      var current = hidden.value.split(" ")[0];  // the field shows "320506 江苏省苏州市吴中区"
      function cities() { var prov = tree.find(function (x) { return x.code === p.value; }); return prov ? prov.cities : []; }
      function districts() { var city = cities().find(function (x) { return x.code === c.value; }); return city ? city.districts : []; }
      function onProvince() { fill(c, cities(), c.options[0].textContent); fill(d, [], d.options[0].textContent); hidden.value = ""; }
      function onCity() { fill(d, districts(), d.options[0].textContent); hidden.value = ""; }
      p.addEventListener("change", onProvince);
      c.addEventListener("change", onCity);
      d.addEventListener("change", function () { hidden.value = d.value; });
      if (current) {
        tree.forEach(function (prov) {
          prov.cities.forEach(function (city) {
            city.districts.forEach(function (dist) {
              if (dist.code !== current) { return; }
              p.value = prov.code; onProvince(); c.value = city.code; onCity(); d.value = current; hidden.value = current;
            });
          });
        });
      }
    });
  }

  // #statement-upload-form: an upload with a progress bar; the answered page replaces this one.
  function bindUploadProgress() {
    var form = document.getElementById("statement-upload-form");
    if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input || !input.files || !input.files.length) { return; }  // let the server say what is missing
      event.preventDefault();
      var box = document.getElementById("upload-progress");
      var bar = document.getElementById("upload-progress-bar");
      var text = document.getElementById("upload-progress-text");
      var parsing = form.getAttribute("data-parsing-label") || "";
      var button = form.querySelector("button");
      box.hidden = false;
      if (button) { button.disabled = true; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var pct = Math.round(e.loaded * 100 / e.total);
        bar.value = pct; bar.textContent = pct + "%";
        text.textContent = pct < 100 ? pct + "%" : "100% · " + parsing;
      });
      xhr.addEventListener("load", function () {
        // Show the page the server answered with as it is: after a redirect that page already
        // carries the result message (loading its URL again would lose it), so only the address
        // bar follows the redirect.
        var landed = xhr.responseURL && xhr.responseURL.split("#")[0] !== form.action;
        document.open(); document.write(xhr.responseText); document.close();
        if (landed && window.history && window.history.replaceState) {
          window.history.replaceState(null, "", xhr.responseURL);
        }
      });
      xhr.addEventListener("error", function () { form.submit(); });  // fall back to a plain post
      xhr.send(new FormData(form));
    });
  }

  // base.html loads this file at the end of <body>: the page above is already parsed.
  bindCopyButtons();
  scheduleReload();
  pollVerification();
  bindRegionPicker();
  bindUploadProgress();
})();
