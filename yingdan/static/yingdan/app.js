/* Yingdan (赢单) UI shell behaviour: htmx configuration, confirm dialogs, bulk selection, global search. */
(function () {
  "use strict";

  var Yingdan = (window.Yingdan = window.Yingdan || {});

  /* ---------------------------------------------------------------------------------------------
   * htmx: swap 422 responses (inline form validation answers "Unprocessable" with the form), treat
   * other 4xx/5xx as errors and show a toast.
   * ------------------------------------------------------------------------------------------- */
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false },
    ];
    htmx.config.historyCacheSize = 10;
    htmx.config.selfRequestsOnly = true;

    document.addEventListener("htmx:responseError", function () {
      Yingdan.toastError();
    });
    document.addEventListener("htmx:sendError", function () {
      Yingdan.toastError();
    });
  }

  Yingdan.toastError = function (text) {
    var tpl = document.getElementById("yd-error-toast");
    var holder = document.getElementById("yd-toasts");
    if (!tpl || !holder || !window.bootstrap) return;
    var el = tpl.content.firstElementChild.cloneNode(true);
    if (text) el.querySelector(".toast-body").textContent = text;
    holder.appendChild(el);
    var toast = new bootstrap.Toast(el, { delay: 5000 });
    el.addEventListener("hidden.bs.toast", function () { el.remove(); });
    toast.show();
  };

  /* ---------------------------------------------------------------------------------------------
   * Confirm dialogs. Any link, button or form with data-confirm="question" asks first (a Bootstrap
   * modal; window.confirm as fallback). hx-confirm uses the same dialog.
   * ------------------------------------------------------------------------------------------- */
  Yingdan.confirm = function (question, onOk) {
    var modalEl = document.getElementById("yd-confirm-modal");
    if (!modalEl || !window.bootstrap) {
      if (window.confirm(question)) onOk();
      return;
    }
    modalEl.querySelector("#yd-confirm-text").textContent = question;
    var modal = bootstrap.Modal.getOrCreateInstance(modalEl);
    var okButton = modalEl.querySelector("#yd-confirm-ok");
    var confirmed = false;
    var handleOk = function () {
      confirmed = true;
      modal.hide();
    };
    var handleHidden = function () {
      okButton.removeEventListener("click", handleOk);
      modalEl.removeEventListener("hidden.bs.modal", handleHidden);
      if (confirmed) onOk();
    };
    okButton.addEventListener("click", handleOk);
    modalEl.addEventListener("hidden.bs.modal", handleHidden);
    modal.show();
    modalEl.addEventListener("shown.bs.modal", function focusOk() {
      okButton.focus();
      modalEl.removeEventListener("shown.bs.modal", focusOk);
    });
  };

  document.addEventListener(
    "click",
    function (evt) {
      var el = evt.target.closest("[data-confirm]");
      if (!el || el.tagName === "FORM") return;
      if (el.dataset.confirmed === "1") {
        delete el.dataset.confirmed;
        return;
      }
      if (el.disabled) return;
      evt.preventDefault();
      evt.stopImmediatePropagation();
      Yingdan.confirm(el.getAttribute("data-confirm"), function () {
        el.dataset.confirmed = "1";
        el.click();
      });
    },
    true
  );

  document.addEventListener(
    "submit",
    function (evt) {
      var form = evt.target;
      if (!form.matches || !form.matches("form[data-confirm]")) return;
      if (form.dataset.confirmed === "1") {
        delete form.dataset.confirmed;
        return;
      }
      evt.preventDefault();
      evt.stopImmediatePropagation();
      var submitter = evt.submitter || null;
      Yingdan.confirm(form.getAttribute("data-confirm"), function () {
        form.dataset.confirmed = "1";
        if (form.requestSubmit) form.requestSubmit(submitter);
        else form.submit();
      });
    },
    true
  );

  document.addEventListener("htmx:confirm", function (evt) {
    if (!evt.detail.question) return;
    evt.preventDefault();
    Yingdan.confirm(evt.detail.question, function () {
      evt.detail.issueRequest(true);
    });
  });

  /* ---------------------------------------------------------------------------------------------
   * Bulk selection. Inside a container [data-bulk] (or the closest form):
   *   <input type="checkbox" data-select-all>            selects / clears every input[name=pk]
   *   <input type="checkbox" name="pk" value="...">      one row
   *   <span data-bulk-count>0</span>                     number selected
   *   <button data-bulk-action="/url/">                  disabled while nothing is selected; submits the
   *                                                      bulk form to /url/ (data-confirm asks first)
   *   [data-bulk-requires-selection], [data-bulk-button] any other control enabled only with a selection
   *                                                      (e.g. <button type="submit" formaction="...">)
   *   [data-bulk-counter] / [data-bulk-bar]              hidden while nothing is selected
   * ------------------------------------------------------------------------------------------- */
  function bulkScope(el) {
    return el.closest("[data-bulk]") || el.closest("form") || document;
  }

  function bulkForm(scope) {
    if (scope.tagName === "FORM") return scope;
    return scope.querySelector("form[data-bulk-form]") || scope.querySelector("form") || scope.closest("form");
  }

  Yingdan.selectedPks = function (scope) {
    scope = scope || document;
    return Array.prototype.map.call(scope.querySelectorAll('input[name="pk"]:checked'), function (cb) {
      return cb.value;
    });
  };

  Yingdan.updateBulk = function (scope) {
    scope = scope || document;
    var boxes = scope.querySelectorAll('input[name="pk"]');
    var checked = scope.querySelectorAll('input[name="pk"]:checked').length;
    scope.querySelectorAll("[data-bulk-count]").forEach(function (el) {
      el.textContent = String(checked);
    });
    scope.querySelectorAll("[data-select-all]").forEach(function (el) {
      el.checked = boxes.length > 0 && checked === boxes.length;
      el.indeterminate = checked > 0 && checked < boxes.length;
    });
    scope.querySelectorAll("[data-bulk-action], [data-bulk-requires-selection], [data-bulk-button]").forEach(function (el) {
      el.disabled = checked === 0;
      el.classList.toggle("disabled", checked === 0);
      if (el.tagName === "A") el.setAttribute("aria-disabled", checked === 0 ? "true" : "false");
    });
    scope.querySelectorAll("[data-bulk-bar]").forEach(function (el) {
      el.classList.toggle("d-none", checked === 0);
    });
    scope.querySelectorAll("[data-bulk-counter]").forEach(function (el) {
      el.hidden = checked === 0;
    });
    return checked;
  };

  /** Submit the bulk form (the one holding the pk checkboxes) to `actionUrl`. */
  Yingdan.submitBulk = function (actionUrl, scopeOrSelector, submitter) {
    var scope = typeof scopeOrSelector === "string" ? document.querySelector(scopeOrSelector) : scopeOrSelector;
    scope = scope || document;
    var form = bulkForm(scope);
    if (!form) return false;
    if (Yingdan.selectedPks(scope).length === 0) return false;
    // pk checkboxes outside the <form> element still belong to it through the form attribute
    scope.querySelectorAll('input[name="pk"]:checked').forEach(function (cb) {
      if (!form.contains(cb) && !cb.getAttribute("form")) {
        if (!form.id) form.id = "yd-bulk-form-" + Math.random().toString(36).slice(2);
        cb.setAttribute("form", form.id);
      }
    });
    var method = (submitter && submitter.getAttribute("data-bulk-method")) || form.getAttribute("method") || "post";
    form.setAttribute("method", method);
    form.setAttribute("action", actionUrl);
    if (form.hasAttribute("data-confirm")) form.dataset.confirmed = "1"; // the button already asked
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
    return true;
  };

  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el.matches("[data-select-all]")) {
      var scope = bulkScope(el);
      scope.querySelectorAll('input[name="pk"]').forEach(function (cb) {
        if (!cb.disabled) cb.checked = el.checked;
      });
      Yingdan.updateBulk(scope);
    } else if (el.matches('input[name="pk"]')) {
      Yingdan.updateBulk(bulkScope(el));
    }
  });

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-bulk-action]");
    if (!button) return;
    evt.preventDefault();
    Yingdan.submitBulk(button.getAttribute("data-bulk-action"), bulkScope(button), button);
  });

  function initBulk(root) {
    var scopes = (root || document).querySelectorAll("[data-bulk]");
    if (scopes.length) scopes.forEach(function (s) { Yingdan.updateBulk(s); });
    else if ((root || document).querySelector('input[name="pk"]')) Yingdan.updateBulk(document);
  }

  /* ---------------------------------------------------------------------------------------------
   * Global search dropdown: hide on Escape / outside click, show again on focus.
   * ------------------------------------------------------------------------------------------- */
  function searchResults() {
    return document.getElementById("global-search-results");
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.key === "Escape" && searchResults()) searchResults().classList.add("yd-hidden");
  });
  document.addEventListener("click", function (evt) {
    var results = searchResults();
    if (!results) return;
    if (!evt.target.closest(".yd-search")) results.classList.add("yd-hidden");
  });
  document.addEventListener("focusin", function (evt) {
    if (evt.target.closest && evt.target.closest(".yd-search") && searchResults()) {
      searchResults().classList.remove("yd-hidden");
    }
  });
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "global-search-results") {
      evt.detail.target.classList.remove("yd-hidden");
    }
  });

  /* ------------------------------------------------------------------------------------------- */
  document.addEventListener("DOMContentLoaded", function () {
    initBulk(document);
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    initBulk(evt.detail.elt && evt.detail.elt.closest ? evt.detail.elt.closest("[data-bulk]") || document : document);
  });
})();
