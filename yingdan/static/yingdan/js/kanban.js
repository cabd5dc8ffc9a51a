/* Kanban board and the stage gate form (kanban + opportunity page).
 *
 * Drag and drop (SortableJS) posts the move with HTMX, carrying the card's version. The server answers:
 *  - moved:   the re-rendered card + HX-Trigger "kanban:moved" → column totals are refreshed;
 *  - refused: the gate form (retargeted into #gate-modal-body) + HX-Trigger "gate:refused" → the card snaps
 *             back to where it was and the modal opens; submitting the form retries the move.
 * On a phone (or anywhere) the ⇄ button on a card opens a "move to" menu that does the same POST.
 */
(function () {
  "use strict";

  var pending = {}; // card id -> {from, index} while a move is in flight

  function board() { return document.getElementById("kanban-board"); }

  function column(stage) {
    return document.querySelector('.kanban-cards[data-stage="' + stage + '"]');
  }

  function snapBack(id) {
    var info = pending[id];
    var card = document.getElementById("kanban-card-" + id);
    delete pending[id];
    if (!info || !card) return;
    var ref = info.from.children[info.index] || null;
    if (ref === card) return;
    info.from.insertBefore(card, ref);
  }

  function refreshTotals() {
    var b = board();
    if (!b) return;
    fetch(b.dataset.summaryUrl, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        Object.keys(data.columns).forEach(function (stage) {
          var c = data.columns[stage];
          var set = function (attr, value) {
            var el = document.querySelector("[" + attr + '="' + stage + '"]');
            if (el) el.textContent = value;
          };
          set("data-col-count", c.count);
          set("data-col-amount", c.amount);
          set("data-col-weighted", c.weighted);
        });
      });
  }

  function move(card, stage) {
    card.classList.add("opacity-50");
    var values = { stage: stage, version: card.dataset.version, _from: "kanban" };
    return htmx.ajax("POST", card.dataset.moveUrl, { source: card, target: card, swap: "outerHTML", values: values })
      .finally(function () {
        var c = document.getElementById(card.id);
        if (c) c.classList.remove("opacity-50");
      });
  }

  function initSortable(root) {
    var b = board();
    if (!b || !window.Sortable || b.dataset.canMove !== "1") return;
    (root || b).querySelectorAll(".kanban-cards").forEach(function (list) {
      if (list._sortable) return;
      list._sortable = Sortable.create(list, {
        group: "kanban",
        animation: 150,
        draggable: ".kanban-card",
        filter: ".kanban-more",
        delay: 200,
        delayOnTouchOnly: true,
        forceFallback: true, // mouse/touch events instead of native drag and drop: same behaviour everywhere
        fallbackOnBody: true,
        onEnd: function (evt) {
          if (evt.from === evt.to) return;
          var card = evt.item;
          pending[card.dataset.id] = { from: evt.from, index: evt.oldIndex };
          move(card, evt.to.dataset.stage);
        },
      });
    });
  }

  function showModal(id) {
    var el = document.getElementById(id);
    if (el && window.bootstrap) bootstrap.Modal.getOrCreateInstance(el).show();
  }

  function hideModal(id) {
    var el = document.getElementById(id);
    if (el && window.bootstrap) bootstrap.Modal.getOrCreateInstance(el).hide();
  }

  document.addEventListener("gate:refused", function (e) {
    var id = e.detail && e.detail.id;
    if (id !== undefined) snapBack(String(id));
    showModal("gate-modal");
  });

  document.addEventListener("kanban:moved", function (e) {
    var id = String(e.detail.id);
    var stage = String(e.detail.stage);
    delete pending[id];
    hideModal("gate-modal");
    var card = document.getElementById("kanban-card-" + id);
    var target = column(stage);
    if (card && target && card.parentElement !== target) target.insertBefore(card, target.firstChild);
    refreshTotals();
  });

  // A failed request (network, 5xx, 403/404): put the card back.
  document.addEventListener("htmx:responseError", function (e) {
    var el = e.detail.elt;
    if (el && el.classList && el.classList.contains("kanban-card")) snapBack(el.dataset.id);
  });

  // "Move to" menu (phones: tap ⇄ on a card).
  var menuCard = null;
  document.addEventListener("click", function (e) {
    var opener = e.target.closest("[data-move-menu]");
    if (opener) {
      e.preventDefault();
      menuCard = opener.closest(".kanban-card");
      var menu = document.getElementById("kanban-move-menu");
      if (!menu || !menuCard) return;
      menu.querySelectorAll("[data-move-to]").forEach(function (b) {
        b.disabled = b.dataset.moveTo === menuCard.dataset.stage;
      });
      showModal("kanban-move-menu");
      return;
    }
    var choice = e.target.closest("[data-move-to]");
    if (choice && menuCard) {
      var card = menuCard;
      menuCard = null;
      hideModal("kanban-move-menu");
      pending[card.dataset.id] = { from: card.parentElement, index: Array.prototype.indexOf.call(card.parentElement.children, card) };
      move(card, choice.dataset.moveTo);
    }
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.closest && e.detail.target.closest("#kanban-board")) initSortable();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { initSortable(); });
  else initSortable();
})();
