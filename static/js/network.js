/* The network page of a case file (templates/entities/analysis/network.html).
 *
 * Draws network/data.json with cytoscape.js: shape and colour by kind of entity, a dashed
 * border for shared-dataset entities, countries under the name; edges coloured by kind, trade
 * edges thicker with more shipments. Click a node for its card (an htmx fragment), expand its
 * neighbourhood from the card, hide and show kinds of edges, save the layout.
 * No inline script or style anywhere (the CSP forbids them): URLs come from data attributes,
 * cytoscape draws on canvas.
 */
(function () {
  "use strict";

  var box = document.getElementById("network");
  if (!box || typeof window.cytoscape !== "function") {
    return;
  }
  var statusLine = document.getElementById("net-status");
  var card = document.getElementById("node-card");
  var MARKER = "00000000-0000-0000-0000-000000000000";
  var csrf = "";
  try {
    csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (e) {
    csrf = "";
  }

  // Okabe & Ito colours, as the trade-flow charts use.
  var NODE = {
    Company: ["#0072B2", "round-rectangle"],
    Person: ["#CC79A7", "ellipse"],
    Organization: ["#009E73", "hexagon"],
    LegalEntity: ["#E69F00", "diamond"]
  };
  var EDGE = {
    Ownership: "#0072B2",
    Directorship: "#009E73",
    Family: "#CC79A7",
    Employment: "#E69F00",
    UnknownLink: "#6b7480",
    Trade: "#D55E00"
  };
  // Above this many nodes the first drawing places nodes itself (cose is quadratic, and any
  // layout run re-measures every element): rings by number of connections.
  var QUICK_LAYOUT_NODES = 300;
  // Above this many, labels show on hover, selection and expansion only (measuring 2,000
  // labels took most of the first frame: bench/analysis.py), and edges are drawn straight.
  var BIG_NODES = 500;
  var BIG_EDGES = 1500;

  function say(text) {
    statusLine.textContent = text;
  }

  function compact(value) {
    var n = Number(value);
    var units = [[1e9, "B"], [1e6, "M"], [1e3, "K"]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(n) >= units[i][0]) {
        return (n / units[i][0]).toFixed(1).replace(/\.0$/, "") + units[i][1];
      }
    }
    return String(Math.round(n));
  }

  function edgeLabel(e) {
    if (e.kind === "Trade") {
      var totals = {};
      Object.keys(e.years || {}).forEach(function (key) {
        var currency = key.split(" ")[1];
        if (e.years[key] !== null) {
          totals[currency] = (totals[currency] || 0) + Number(e.years[key]);
        }
      });
      var parts = Object.keys(totals).sort().map(function (c) {
        return compact(totals[c]) + " " + c;
      });
      return e.shipments + " shipment" + (e.shipments === 1 ? "" : "s") +
        (parts.length ? ": " + parts.join(", ") : "");
    }
    var label = e.kind === "UnknownLink" ? (e.role || "link") : e.kind;
    if (e.percentage !== null && e.percentage !== undefined) {
      label += " " + e.percentage + "%";
    } else if (e.role && e.kind !== "UnknownLink") {
      label += " (" + e.role + ")";
    }
    return label;
  }

  function nodeElement(n, position) {
    var countries = (n.countries || []).join(" ");
    var el = {
      group: "nodes",
      data: {
        id: n.id,
        label: countries ? n.name + "\n" + countries : n.name,
        schema: n.schema,
        scope: n.scope
      },
      classes: "scope-" + n.scope
    };
    if (position) {
      el.position = { x: position[0], y: position[1] };
    }
    return el;
  }

  function edgeElement(e) {
    var width = e.kind === "Trade" ? 1.5 + Math.min(6, Math.log2(1 + (e.shipments || 1))) : 1.5;
    return {
      group: "edges",
      data: {
        id: e.id, source: e.source, target: e.target, kind: e.kind,
        label: edgeLabel(e), width: width
      }
    };
  }

  function stylesheet(big, manyEdges) {
    var style = [
      {
        selector: "node",
        style: {
          "label": big ? "" : "data(label)", "text-wrap": "wrap", "text-max-width": "150px",
          "font-size": 10, "color": "#1b1f24", "text-valign": "bottom", "text-margin-y": 4,
          "text-background-color": "#ffffff", "text-background-opacity": 0.75,
          "text-background-padding": "1px", "min-zoomed-font-size": 7,
          "width": 24, "height": 24, "border-width": 1, "border-color": "#ffffff"
        }
      },
      { selector: "node.scope-pinned", style: { "border-width": 3, "border-color": "#7a5300" } },
      {
        selector: "node.scope-dataset",
        style: { "border-width": 3, "border-style": "dashed", "border-color": "#7a5300" }
      },
      { selector: "node:selected", style: { "border-width": 5, "border-color": "#f2b705" } },
      { selector: "node:selected, node.hover, node.labelled", style: { "label": "data(label)" } },
      {
        selector: "edge",
        style: {
          "width": "data(width)", "curve-style": manyEdges ? "haystack" : "bezier",
          "haystack-radius": 0, "target-arrow-shape": "triangle",
          "arrow-scale": 0.8, "opacity": 0.85, "font-size": 9, "color": "#1b1f24",
          "text-background-color": "#ffffff", "text-background-opacity": 0.85,
          "text-rotation": "autorotate"
        }
      },
      { selector: "edge[kind = \"Family\"]", style: { "line-style": "dashed", "target-arrow-shape": "none" } },
      { selector: "edge:selected, edge.hover", style: { "label": "data(label)", "opacity": 1 } },
      { selector: ".hidden", style: { "display": "none" } }
    ];
    Object.keys(NODE).forEach(function (schema) {
      style.splice(1, 0, {
        selector: "node[schema = \"" + schema + "\"]",
        style: { "background-color": NODE[schema][0], "shape": NODE[schema][1] }
      });
    });
    Object.keys(EDGE).forEach(function (kind) {
      style.push({
        selector: "edge[kind = \"" + kind + "\"]",
        style: { "line-color": EDGE[kind], "target-arrow-color": EDGE[kind] }
      });
    });
    return style;
  }

  function kindBoxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[data-kind]"));
  }

  function applyHidden(cy) {
    kindBoxes().forEach(function (input) {
      cy.edges("[kind = \"" + input.dataset.kind + "\"]").toggleClass("hidden", !input.checked);
    });
  }

  function shownKinds() {
    return kindBoxes().filter(function (i) { return i.checked; }).map(function (i) {
      return i.dataset.kind;
    });
  }

  function ringPositions(nodes, edges) {
    // The best-connected in the middle, the rest on rings outwards, 40 px apart.
    var degree = {};
    edges.forEach(function (e) {
      degree[e.source] = (degree[e.source] || 0) + 1;
      degree[e.target] = (degree[e.target] || 0) + 1;
    });
    var order = nodes.map(function (n) { return n.id; }).sort(function (a, b) {
      return (degree[b] || 0) - (degree[a] || 0);
    });
    var positions = {};
    var ring = 0;
    var slot = 0;
    var capacity = 1;
    order.forEach(function (id) {
      if (slot >= capacity) {
        ring += 1;
        slot = 0;
        capacity = Math.max(1, Math.floor(2 * Math.PI * ring));
      }
      var angle = (2 * Math.PI * slot) / capacity + ring * 0.5;
      positions[id] = [40 * ring * Math.cos(angle), 40 * ring * Math.sin(angle)];
      slot += 1;
    });
    return positions;
  }

  function start(data) {
    window.performance.mark("network-data");
    var saved = (data.layout && data.layout.positions) || {};
    var known = data.nodes.filter(function (n) { return saved[n.id]; }).length;
    var positioned = data.nodes.length > 0 && known === data.nodes.length;
    var quick = !positioned && data.nodes.length > QUICK_LAYOUT_NODES;
    var placed = positioned ? saved : quick ? ringPositions(data.nodes, data.edges) : {};
    var elements = [];
    data.nodes.forEach(function (n) { elements.push(nodeElement(n, placed[n.id])); });
    data.edges.forEach(function (e) { elements.push(edgeElement(e)); });
    (data.layout.hidden || []).forEach(function (kind) {
      var input = document.querySelector("input[data-kind=\"" + kind + "\"]");
      if (input) {
        input.checked = false;
      }
    });
    var big = data.nodes.length > BIG_NODES;
    var cy = window.cytoscape({
      container: box,
      elements: elements,
      style: stylesheet(big, data.edges.length > BIG_EDGES),
      layout: { name: "preset" },
      minZoom: 0.05,
      maxZoom: 4,
      wheelSensitivity: 0.3,
      hideEdgesOnViewport: data.nodes.length > 1000,
      textureOnViewport: data.nodes.length > 1000
    });
    applyHidden(cy);
    window.performance.mark("network-created");
    cy.one("render", function () {
      // The first frame is on the screen: the browser test and bench/network_page.py read this.
      document.body.dataset.networkReady = String(Math.round(window.performance.now()));
    });
    if (positioned || quick) {
      cy.fit(undefined, 30);
    } else {
      cy.layout({
        name: "cose", fit: true, padding: 30, animate: false, randomize: true, numIter: 600
      }).run();
    }
    window.performance.mark("network-laid-out");
    say(data.nodes.length + " entities, " + data.edges.length + " connections" +
      (data.truncated ? " (the first " + data.nodes.length + " of " + data.total + " entities)" : "") +
      ". Click an entity for its card.");
    wire(cy);
  }

  function loadCard(id) {
    var url = box.dataset.cardUrl.replace(MARKER, id);
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#node-card", swap: "innerHTML" });
    } else {
      window.location.href = url;
    }
  }

  function expand(cy, id, hops) {
    var source = cy.getElementById(id);
    var params = new URLSearchParams({ entity: id, hops: String(hops) });
    if (document.getElementById("net-datasets").checked) {
      params.append("datasets", "on");
    }
    shownKinds().forEach(function (kind) { params.append("kinds", kind); });
    say("Expanding…");
    fetch(box.dataset.expandUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (result) {
        if (!result[0]) {
          say("Could not expand: " + JSON.stringify(result[1].error || result[1]));
          return;
        }
        var data = result[1];
        var centre = source.nonempty() ? source.position() : { x: 0, y: 0 };
        var fresh = data.nodes.filter(function (n) { return cy.getElementById(n.id).empty(); });
        var ring = {};
        fresh.forEach(function (n) { ring[n.depth] = (ring[n.depth] || 0) + 1; });
        var placed = {};
        var added = cy.collection();
        fresh.forEach(function (n) {
          var depth = Math.max(1, n.depth);
          var i = placed[depth] = (placed[depth] || 0) + 1;
          var angle = (2 * Math.PI * i) / ring[n.depth];
          var radius = 90 * depth + 4 * ring[n.depth] / depth;
          added = added.union(cy.add(nodeElement(n, [
            centre.x + radius * Math.cos(angle), centre.y + radius * Math.sin(angle)
          ])));
        });
        added.addClass("labelled");
        var edges = 0;
        data.edges.forEach(function (e) {
          if (cy.getElementById(e.id).empty()) {
            cy.add(edgeElement(e));
            edges += 1;
          }
        });
        applyHidden(cy);
        say("Added " + fresh.length + " entities and " + edges + " connections" +
          (data.truncated ? "; the neighbourhood is larger, the nearest " + data.nodes.length + " are shown" : "") + ".");
        if (added.nonempty()) {
          cy.animate({ fit: { eles: added.union(source), padding: 40 } }, { duration: 300 });
        }
      })
      .catch(function () { say("Could not expand: the server did not answer."); });
  }

  function saveLayout(cy) {
    var positions = {};
    cy.nodes().forEach(function (node) {
      var p = node.position();
      positions[node.id()] = [Math.round(p.x * 10) / 10, Math.round(p.y * 10) / 10];
    });
    var hidden = kindBoxes().filter(function (i) { return !i.checked; }).map(function (i) {
      return i.dataset.kind;
    });
    say("Saving the layout…");
    fetch(box.dataset.layoutUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ positions: positions, hidden: hidden })
    })
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (result) {
        say(result[0] ? "Layout saved (" + result[1].saved + " positions)." :
          "The layout was not saved: " + (result[1].error || "error"));
      })
      .catch(function () { say("The layout was not saved: the server did not answer."); });
  }

  function wire(cy) {
    cy.on("tap", "node", function (evt) {
      evt.target.closedNeighborhood("node").addClass("labelled");
      loadCard(evt.target.id());
    });
    cy.on("mouseover", "node", function (evt) { evt.target.addClass("hover"); });
    cy.on("mouseout", "node", function (evt) { evt.target.removeClass("hover"); });
    cy.on("mouseover", "edge", function (evt) { evt.target.addClass("hover"); });
    cy.on("mouseout", "edge", function (evt) { evt.target.removeClass("hover"); });
    kindBoxes().forEach(function (input) {
      input.addEventListener("change", function () { applyHidden(cy); });
    });
    card.addEventListener("click", function (evt) {
      var button = evt.target.closest("[data-expand]");
      if (button) {
        expand(cy, button.dataset.entity, Number(button.dataset.expand));
      }
    });
    document.getElementById("net-fit").addEventListener("click", function () { cy.fit(undefined, 30); });
    var save = document.getElementById("net-save");
    if (save) {
      save.addEventListener("click", function () { saveLayout(cy); });
    }
    window.casefileNetwork = cy; // for the browser test and the bench
  }

  fetch(box.dataset.dataUrl, { credentials: "same-origin" })
    .then(function (r) {
      if (!r.ok) {
        throw new Error(String(r.status));
      }
      return r.json();
    })
    .then(start)
    .catch(function (err) { say("The network could not be loaded (" + err.message + ")."); });
})();
