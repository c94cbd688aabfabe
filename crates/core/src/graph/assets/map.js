// peerscope map: decodes the embedded graph (see src/graph/html.rs for its layout), lays it
// out (accounts as boxes on shelves, regions inside, VPCs on a grid), draws it as SVG, and
// handles pan, zoom, search, filters, collapsing accounts and the side panel. No library, no
// network. Data is only ever put into the page as text nodes and attributes, never as HTML.
(function () {
  'use strict';
  // The data: plain JSON, or (large maps) deflated and base64-encoded.
  var node = document.getElementById('peerscope-data');
  if (node.getAttribute('data-encoding') === 'deflate-base64') {
    var raw = atob(node.textContent.trim());
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    var inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
    new Response(inflated).text().then(function (text) { main(JSON.parse(text)); }, function (e) {
      document.getElementById('panel').textContent = 'This map could not be read: ' + e;
      throw e;
    });
  } else {
    main(JSON.parse(node.textContent));
  }
})();

function main(D) {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var SEV = ['info', 'low', 'medium', 'high', 'critical'];
  var CLASSES = D.m.classes;
  var RANK = {};
  CLASSES.forEach(function (c, i) { RANK[c] = i; });

  // ---- decode ------------------------------------------------------------------------------
  var accounts = D.a.map(function (a, i) {
    return { i: i, id: a[0], name: a[1], ext: !!a[2], ch: a[3] || '', unseen: !!a[4], vpcs: [],
      regions: [], expanded: !D.m.collapse };
  });
  var vpcs = D.v.map(function (v, i) {
    var o = { i: i, id: v[0], name: v[1], acct: accounts[v[2]], region: v[3],
      cidrs: v[4] ? v[4].split(' ') : [], snap: !!v[5], ch: v[6] || '', subnets: v[7],
      seen: v[8] || [], f: [], edges: [] };
    o.acct.vpcs.push(o);
    return o;
  });
  var edges = D.e.map(function (e, i) {
    var o = { i: i, id: e[0], a: vpcs[e[1]], b: vpcs[e[2]], status: e[3], xr: !!(e[4] & 1),
      xa: !!(e[4] & 2), ch: e[5] || '', cls: 'idle', broken: false, flows: [], f: [], was: '' };
    o.a.edges.push(o);
    if (o.b !== o.a) { o.b.edges.push(o); }
    return o;
  });
  // Per layer: the edges' classes, flows and findings, the VPCs' findings, the findings.
  var findings = [];
  var layer = { layer: '', caption: '' };
  function useLayer(k) {
    var L = D.L[k];
    layer = L;
    findings = L.f.map(function (f, i) {
      return { i: i, kind: f[0], sev: f[1], fp: f[2], title: f[3], tighten: f[4], comps: f[5],
        ch: f[6] || '' };
    });
    edges.forEach(function (e, i) {
      var x = L.e[i];
      e.cls = x[0]; e.broken = !!x[1]; e.flows = x[2]; e.f = x[3]; e.was = x[4];
    });
    vpcs.forEach(function (v, i) { v.f = L.vf[i]; });
    document.getElementById('layer-name').textContent = L.layer;
  }
  if (D.L.length) { useLayer(0); }
  // Colours: one source, the EdgeClass colours in src/graph/mod.rs, carried in the data.
  (function () {
    var rules = [];
    Object.keys(D.m.colours).forEach(function (c) {
      var col = D.m.colours[c];
      if (!/^#[0-9a-f]{6}$/i.test(col)) { return; }
      rules.push('.c-' + c + ' { stroke: ' + col + '; } .badge.cls.c-' + c + ' { border-color: ' + col + '; }');
      var m = /^exposure-(.*)$/.exec(c);
      if (m) {
        rules.push('.sev-' + m[1] + ' { border-color: ' + col + '; } .badge.sev-' + m[1] +
          ' { background: ' + col + '; } .vpc.f-' + m[1] + ' circle { fill: ' + col + '; }');
      }
    });
    var st = document.createElement('style');
    st.textContent = rules.join('\n');
    document.head.appendChild(st);
  })();
  function isFlowKind(k) { return k === 'exposure' || k === 'denied-flow' || k === 'broken-requirement'; }

  // ---- state -------------------------------------------------------------------------------
  var state = { sel: null, account: '', sev: '', flows: true, hygiene: true, matches: [] };
  var dragged = false;

  function shownFindings(list) {
    return list.filter(function (i) {
      var f = findings[i];
      return isFlowKind(f.kind) ? state.flows : state.hygiene;
    });
  }
  function worst(list) {
    var w = -1;
    shownFindings(list).forEach(function (i) {
      if (findings[i].ch !== 'removed') { w = Math.max(w, SEV.indexOf(findings[i].sev)); }
    });
    return w;
  }
  function passesSeverity(list) {
    if (!state.sev) { return true; }
    var w = worst(list);
    return state.sev === 'any' ? w >= 0 : w >= SEV.indexOf(state.sev);
  }
  function edgeShown(e) {
    if (state.account && e.a.acct.id !== state.account && e.b.acct.id !== state.account) { return false; }
    return passesSeverity(e.f);
  }
  function vpcShown(v) {
    if (state.account && v.acct.id !== state.account && !v.edges.some(edgeShown)) { return false; }
    if (!state.sev) { return true; }
    return passesSeverity(v.f) || v.edges.some(edgeShown);
  }

  // ---- layout ------------------------------------------------------------------------------
  var VW = 150, VH = 66, PAD = 12, HEAD = 44, RHEAD = 20, GAP = 80;
  accounts.forEach(function (a) {
    var by = {};
    a.vpcs.forEach(function (v) { (by[v.region] = by[v.region] || []).push(v); });
    var y = HEAD, w = 0;
    a.regions = Object.keys(by).sort().map(function (name) {
      var list = by[name];
      var cols = Math.max(1, Math.min(list.length, Math.ceil(Math.sqrt(list.length * 1.8))));
      var rows = Math.ceil(list.length / cols);
      var r = { name: name, y: y, h: RHEAD + rows * VH };
      list.forEach(function (v, k) {
        v.rx = PAD + (k % cols) * VW + VW / 2;
        v.ry = y + RHEAD + Math.floor(k / cols) * VH + 16;
      });
      y += r.h + PAD;
      w = Math.max(w, cols * VW);
      return r;
    });
    // Wide enough for its title (shortened to 44 characters when drawn; 13px bold).
    a.w = Math.max(w + 2 * PAD, 230, Math.min(acctLabel(a).length, 44) * 8 + 2 * PAD);
    a.h = Math.max(y, 90);
    a.vpcs.forEach(function (v) { v.rx += (a.w - 2 * PAD - w) / 2; });
  });
  var order = accounts.slice().sort(function (x, y) {
    return (x.ext - y.ext) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
  });
  var area = 0, maxW = 0;
  order.forEach(function (a) { area += (a.w + GAP) * (a.h + GAP); maxW = Math.max(maxW, a.w); });
  var rowW = Math.max(maxW, Math.sqrt(area) * 1.5);
  var world = { w: 0, h: 0 };
  (function () {
    var x = 0, y = 0, rowH = 0;
    order.forEach(function (a) {
      if (x > 0 && x + a.w > rowW) { x = 0; y += rowH + GAP; rowH = 0; }
      a.x = x; a.y = y; a.cx = x + a.w / 2; a.cy = y + a.h / 2;
      x += a.w + GAP; rowH = Math.max(rowH, a.h);
      world.w = Math.max(world.w, a.x + a.w); world.h = Math.max(world.h, a.y + a.h);
    });
  })();
  vpcs.forEach(function (v) { v.x = v.acct.x + v.rx; v.y = v.acct.y + v.ry; });

  // ---- drawing helpers ---------------------------------------------------------------------
  function svgEl(tag, attrs, parent, text) {
    var n = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) { n.textContent = text; }
    if (parent) { parent.appendChild(n); }
    return n;
  }
  function h(tag, attrs, kids) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'onclick') { n.addEventListener('click', attrs[k]); } else { n.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (c) {
      if (c === null || c === undefined) { return; }
      n.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return n;
  }
  function short(s, n) { return s.length > n ? s.slice(0, n - 1) + '…' : s; }
  function acctLabel(a) {
    var marks = [];
    if (a.ext) { marks.push('external'); }
    if (a.unseen) { marks.push('unseen'); }
    return (a.name ? a.name + ' (' + a.id + ')' : a.id) + (marks.length ? ' — ' + marks.join(', ') : '');
  }
  // An unseen VPC (not in the snapshot, named only by peering records): what it is seen through.
  function unseenNote(v) {
    return 'unseen: not in the snapshot, seen only through ' + v.seen.join(', ') +
      '; its side is assumed to allow everything';
  }
  function vpcLabel(v) { return v.name ? v.name + ' (' + v.id + ')' : v.id; }

  var svg = document.getElementById('svg');
  var vp = document.getElementById('viewport');
  var LA = document.getElementById('l-accounts');
  var LE = document.getElementById('l-edges');
  var LV = document.getElementById('l-vpcs');
  var panel = document.getElementById('panel');

  // ---- render ------------------------------------------------------------------------------
  function render() {
    [LA, LE, LV].forEach(function (l) { while (l.firstChild) { l.removeChild(l.firstChild); } });
    accounts.forEach(drawAccount);
    drawEdges();
    vpcs.forEach(function (v) { if (v.acct.expanded) { drawVpc(v); } });
    markSelection();
  }

  function drawAccount(a) {
    var internal = 0, nf = 0;
    a.vpcs.forEach(function (v) {
      nf += shownFindings(v.f).length;
      v.edges.forEach(function (e) { if (e.a.acct === e.b.acct && e.a === v) { internal += 1; } });
    });
    var cls = 'acct' + (a.ext ? ' ext' : '') + (a.expanded ? '' : ' collapsed') + (a.ch ? ' ch-' + a.ch : '');
    if (state.account && a.id !== state.account && !a.vpcs.some(vpcShown)) { cls += ' dim'; }
    var g = svgEl('g', { 'class': cls, 'data-account': a.id, transform: 'translate(' + a.x + ',' + a.y + ')' }, LA);
    svgEl('rect', { 'class': 'box', width: a.w, height: a.h, rx: 10 }, g);
    svgEl('text', { 'class': 'title', x: PAD, y: 19 }, g, short(acctLabel(a), 44) + (a.ch ? ' [' + a.ch + ']' : ''));
    svgEl('text', { 'class': 'sub', x: PAD, y: 35 }, g, a.vpcs.length + ' VPC(s), ' +
      a.regions.map(function (r) { return r.name; }).join(', ') +
      (internal ? ', ' + internal + ' internal peering(s)' : '') + (a.expanded ? '' : ' — click to expand'));
    if (a.expanded) {
      a.regions.forEach(function (r) {
        svgEl('rect', { 'class': 'region', x: PAD / 2, y: r.y, width: a.w - PAD, height: r.h, rx: 6 }, g);
        svgEl('text', { 'class': 'region', x: PAD, y: r.y + 13 }, g, r.name);
      });
    } else if (nf) {
      svgEl('text', { 'class': 'sub', x: PAD, y: 52 }, g, nf + ' finding(s) on its VPCs');
    }
    g.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (dragged) { return; }
      if (!a.expanded) { a.expanded = true; render(); }
      select({ type: 'acct', obj: a });
    });
  }

  function endpoint(v) {
    return v.acct.expanded ? { k: 'v' + v.i, x: v.x, y: v.y, acct: v.acct } :
      { k: 'a' + v.acct.i, x: v.acct.cx, y: v.acct.cy, acct: v.acct };
  }
  function curve(p, q, bend) {
    var mx = (p.x + q.x) / 2, my = (p.y + q.y) / 2, dx = q.x - p.x, dy = q.y - p.y;
    var len = Math.sqrt(dx * dx + dy * dy) || 1;
    var cx = mx - dy / len * bend, cy = my + dx / len * bend;
    return { d: 'M' + p.x + ',' + p.y + ' Q' + cx + ',' + cy + ' ' + q.x + ',' + q.y,
      mx: (p.x + 2 * cx + q.x) / 4, my: (p.y + 2 * cy + q.y) / 4, len: len };
  }

  function drawEdges() {
    var groups = {}, keys = [];
    edges.forEach(function (e) {
      if (!edgeShown(e)) { return; }
      var p = endpoint(e.a), q = endpoint(e.b);
      if (p.k === q.k) { return; }
      var key = p.k < q.k ? p.k + '|' + q.k : q.k + '|' + p.k;
      if (!groups[key]) { groups[key] = { key: key, p: p, q: q, edges: [] }; keys.push(key); }
      groups[key].edges.push(e);
    });
    keys.forEach(function (key) {
      var gr = groups[key];
      var collapsedEnd = gr.p.k.charAt(0) === 'a' || gr.q.k.charAt(0) === 'a';
      if (collapsedEnd && gr.edges.length > 1) { drawAggregate(gr); return; }
      var n = gr.edges.length;
      gr.edges.forEach(function (e, k) {
        var p = endpoint(e.a), q = endpoint(e.b);
        var dx = q.x - p.x, dy = q.y - p.y, len = Math.sqrt(dx * dx + dy * dy);
        var base = p.acct === q.acct ? 0.22 * len : 0.05 * len;
        drawEdge(e, p, q, base + (k - (n - 1) / 2) * 22);
      });
    });
  }

  function edgeChanged(e) {
    return !!e.was || e.f.some(function (i) { return findings[i].ch; });
  }

  function drawEdge(e, p, q, bend) {
    var c = curve(p, q, bend);
    var cls = 'edge c-' + e.cls + (e.broken ? ' broken' : '') + (e.ch ? ' ch-' + e.ch : '') +
      (!e.ch && edgeChanged(e) ? ' changed' : '') + (e.status !== 'active' ? ' inactive' : '');
    var g = svgEl('g', { 'class': cls, 'data-edge': e.id, 'data-class': e.cls }, LE);
    if (D.m.diff && (e.ch || edgeChanged(e))) { svgEl('path', { 'class': 'halo', d: c.d }, g); }
    svgEl('path', { 'class': 'line c-' + e.cls, d: c.d }, g);
    svgEl('path', { 'class': 'hit', d: c.d, 'data-edge': e.id }, g);
    svgEl('text', { 'class': 'edge-label', x: c.mx, y: c.my - 5, 'text-anchor': 'middle' }, g,
      e.id + (e.status !== 'active' ? ' (' + e.status + ')' : ''));
    svgEl('title', {}, g, e.id + ': ' + e.cls + (e.broken ? ', broken requirement' : ''));
    g.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (!dragged) { select({ type: 'edge', obj: e }); }
    });
  }

  function drawAggregate(gr) {
    var cls = 'idle', broken = false, changed = false;
    gr.edges.forEach(function (e) {
      if (RANK[e.cls] > RANK[cls]) { cls = e.cls; }
      broken = broken || e.broken;
      changed = changed || !!e.ch || edgeChanged(e);
    });
    var c = curve(gr.p, gr.q, 0.04 * Math.sqrt(Math.pow(gr.q.x - gr.p.x, 2) + Math.pow(gr.q.y - gr.p.y, 2)));
    var g = svgEl('g', { 'class': 'edge agg c-' + cls + (broken ? ' broken' : '') + (changed ? ' changed' : ''),
      'data-agg': gr.key, 'data-class': cls }, LE);
    if (D.m.diff && changed) { svgEl('path', { 'class': 'halo', d: c.d }, g); }
    svgEl('path', { 'class': 'line c-' + cls, d: c.d, style: 'stroke-width:' + (2 + 1.5 * Math.log2(gr.edges.length)) }, g);
    svgEl('path', { 'class': 'hit', d: c.d }, g);
    svgEl('text', { 'class': 'edge-label', x: c.mx, y: c.my - 5, 'text-anchor': 'middle' }, g, gr.edges.length + ' peerings');
    g.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (!dragged) { select({ type: 'agg', obj: gr }); }
    });
  }

  function drawVpc(v) {
    var w = worst(v.f);
    var cls = 'vpc' + (v.snap ? '' : ' unseen') + (w >= 0 ? ' f-' + SEV[w] : '') + (v.ch ? ' ch-' + v.ch : '') +
      (vpcShown(v) ? '' : ' dim') + (state.matches.indexOf(v) >= 0 ? ' match' : '');
    var g = svgEl('g', { 'class': cls, 'data-vpc': v.id, transform: 'translate(' + v.x + ',' + v.y + ')' }, LV);
    svgEl('circle', { r: 9 }, g);
    if (!v.snap) { svgEl('text', { 'class': 'mark', y: 4 }, g, '?'); }
    svgEl('text', { y: 24 }, g, short(v.name || v.id, 22));
    svgEl('text', { 'class': 'id', y: 36 }, g, v.name ? v.id : short(v.cidrs.join(' '), 26));
    if (!v.snap) { svgEl('text', { 'class': 'id unseen-mark', y: 47 }, g, 'unseen'); }
    svgEl('title', {}, g, vpcLabel(v) + '\n' + v.cidrs.join(', ') + (v.snap ? '' : '\n' + unseenNote(v)));
    g.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (!dragged) { select({ type: 'vpc', obj: v }); }
    });
  }

  function markSelection() {
    var s = state.sel;
    Array.prototype.forEach.call(svg.querySelectorAll('.selected, .related'), function (n) {
      n.classList.remove('selected'); n.classList.remove('related');
    });
    if (!s) { return; }
    var q = null;
    if (s.type === 'vpc') {
      q = LV.querySelector('[data-vpc="' + CSS.escape(s.obj.id) + '"]');
      s.obj.edges.forEach(function (e) {
        var n = LE.querySelector('[data-edge="' + CSS.escape(e.id) + '"]');
        if (n) { n.classList.add('related'); }
      });
    } else if (s.type === 'edge') {
      q = LE.querySelector('g[data-edge="' + CSS.escape(s.obj.id) + '"]');
    } else if (s.type === 'acct') {
      q = LA.querySelector('[data-account="' + CSS.escape(s.obj.id) + '"]');
    } else if (s.type === 'agg') {
      q = LE.querySelector('[data-agg="' + CSS.escape(s.obj.key) + '"]');
    }
    if (q) { q.classList.add('selected'); }
  }

  // ---- side panel --------------------------------------------------------------------------
  function badge(text, cls) { return h('span', { 'class': 'badge ' + (cls || '') }, [text]); }
  function classBadge(c) { return h('span', { 'class': 'badge cls c-' + c }, [c]); }
  function linkTo(text, sel) {
    return h('button', { 'class': 'link', type: 'button', onclick: function () { select(sel, true); } }, [text]);
  }
  function findingCard(f) {
    return h('div', { 'class': 'finding sev-' + f.sev + (f.ch === 'removed' ? ' removed' : ''), 'data-fingerprint': f.fp }, [
      h('div', {}, [badge(f.sev, 'sev-' + f.sev), h('strong', {}, [f.kind]), ' ',
        f.ch ? badge(f.ch, 'ch-' + f.ch) : null]),
      h('div', { 'class': 't' }, [f.title]),
      h('div', { 'class': 'fix' }, [h('strong', {}, ['Tighten: ']), f.tighten]),
      f.comps.length ? h('ul', {}, f.comps.map(function (c) {
        return h('li', {}, [c[0] + ' ', h('code', {}, [c[1]]), c[2] ? ': ' + c[2] : '']);
      })) : null,
      h('div', { 'class': 'fp' }, ['fingerprint ' + f.fp])
    ]);
  }
  function findingList(list, title) {
    var shown = shownFindings(list);
    var kids = [h('h3', {}, [title + ' (' + shown.length + ')'])];
    if (!shown.length) { kids.push(h('div', { 'class': 'muted' }, ['none'])); }
    shown.forEach(function (i) { kids.push(findingCard(findings[i])); });
    return kids;
  }
  function dl(pairs) {
    var kids = [];
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === '') { return; }
      kids.push(h('dt', {}, [p[0]]));
      kids.push(h('dd', {}, [p[1]]));
    });
    return h('dl', {}, kids);
  }
  function show(kids) {
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    kids.forEach(function (k) { if (k) { panel.appendChild(k); } });
    panel.scrollTop = 0;
  }

  function edgePanel(e) {
    var kids = [h('h2', {}, ['Peering ' + e.id]), h('div', {}, [classBadge(e.cls),
      e.broken && e.cls !== 'broken' ? badge('broken requirement', 'sev-high') : null,
      e.ch ? badge(e.ch, 'ch-' + e.ch) : null, e.was ? badge('was ' + e.was) : null])];
    kids.push(dl([
      ['requester', linkTo(vpcLabel(e.a), { type: 'vpc', obj: e.a })],
      ['', acctLabel(e.a.acct) + ', ' + e.a.region],
      ['accepter', linkTo(vpcLabel(e.b), { type: 'vpc', obj: e.b })],
      [' ', acctLabel(e.b.acct) + ', ' + e.b.region],
      ['status', e.status],
      ['crosses', [e.xa ? 'accounts' : '', e.xr ? 'regions' : ''].filter(Boolean).join(', ') || 'nothing (same account and region)']
    ]));
    kids.push(h('h3', {}, ['Flows delivered (' + e.flows.length + ' direction(s), ' + layer.layer + ' layer)']));
    if (!e.flows.length) {
      kids.push(h('div', { 'class': 'muted' }, ['none: the peering is idle']));
    } else {
      kids.push(h('ul', { 'class': 'flows' }, e.flows.map(function (fl) {
        var from = vpcs[fl[0]], to = vpcs[fl[1]];
        return h('li', {}, [
          h('strong', {}, [(from ? from.name || from.id : '?') + ' → ' + (to ? to.name || to.id : '?')]),
          ' ' + fl[2] + (fl[5] ? ' (connectable)' : ' (delivered only)'),
          h('div', { 'class': 'muted' }, [fl[3] + ' → ' + fl[4]])
        ]);
      })));
    }
    return kids.concat(findingList(e.f, 'Findings'));
  }

  function vpcPanel(v) {
    var kids = [h('h2', {}, [vpcLabel(v)]), dl([
      ['account', linkTo(acctLabel(v.acct), { type: 'acct', obj: v.acct })],
      ['region', v.region],
      ['CIDRs', v.cidrs.join(', ')],
      ['snapshot', v.snap ? 'collected' : 'unseen: not in the snapshot'],
      ['change', v.ch]
    ])];
    if (!v.snap) {
      // Its peerings, as links where drawn; its CIDRs and account are what their records say.
      var through = [];
      v.seen.forEach(function (id, k) {
        var e = v.edges.filter(function (x) { return x.id === id; })[0];
        if (k) { through.push(', '); }
        through.push(e ? linkTo(id, { type: 'edge', obj: e }) : id);
      });
      kids.push(h('p', { 'class': 'unseen-note' }, ['This VPC is seen only through '].concat(through, [
        '. Nothing inside it is known: its account, region and CIDRs are what those peering ' +
        'records say, and its side (routes, network ACLs, security groups) is assumed to allow ' +
        'everything, the worst case for exposure.'])));
    }
    if (v.subnets.length) {
      kids.push(h('h3', {}, ['Subnets (' + v.subnets.length + ')']));
      kids.push(h('ul', {}, v.subnets.map(function (s) {
        return h('li', {}, [(s[1] ? s[1] + ' ' : '') + s[0] + ' ' + s[2]]);
      })));
    }
    kids.push(h('h3', {}, ['Peerings (' + v.edges.length + ')']));
    kids.push(h('ul', {}, v.edges.map(function (e) {
      var other = e.a === v ? e.b : e.a;
      return h('li', {}, [linkTo(e.id, { type: 'edge', obj: e }), ' → ' + vpcLabel(other) + ' ',
        classBadge(e.cls), e.f.length ? shownFindings(e.f).length + ' finding(s)' : '']);
    })));
    return kids.concat(findingList(v.f, 'Findings on this VPC'));
  }

  function acctPanel(a) {
    var n = 0;
    a.vpcs.forEach(function (v) { n += v.edges.length; });
    return [h('h2', {}, ['Account ' + acctLabel(a)]), dl([
      ['VPCs', String(a.vpcs.length)],
      ['regions', a.regions.map(function (r) { return r.name; }).join(', ')],
      ['peering ends', String(n)],
      ['external', a.ext ? 'yes: not one of the organisation\u2019s accounts' : 'no'],
      ['collected', a.unseen ? 'no: its VPCs are unseen, known only from peering records' : 'yes'],
      ['change', a.ch]
    ]), h('div', {}, [h('button', { type: 'button', onclick: function () {
      a.expanded = !a.expanded; render(); select({ type: 'acct', obj: a });
    } }, [a.expanded ? 'Collapse' : 'Expand'])]),
    h('h3', {}, ['VPCs']), h('ul', {}, a.vpcs.map(function (v) {
      return h('li', {}, [linkTo(vpcLabel(v), { type: 'vpc', obj: v }), ' ' + v.cidrs.join(', ')]);
    }))];
  }

  function aggPanel(gr) {
    var list = gr.edges.slice().sort(function (x, y) { return RANK[y.cls] - RANK[x.cls]; });
    return [h('h2', {}, [gr.edges.length + ' peerings']), h('div', {}, [h('button', { type: 'button', onclick: function () {
      gr.edges.forEach(function (e) { e.a.acct.expanded = true; e.b.acct.expanded = true; });
      render(); fit();
    } }, ['Expand both ends'])]), h('ul', {}, list.map(function (e) {
      return h('li', {}, [linkTo(e.id, { type: 'edge', obj: e }), ' ' + vpcLabel(e.a) + ' ↔ ' + vpcLabel(e.b) + ' ',
        classBadge(e.cls), shownFindings(e.f).length + ' finding(s)']);
    }))];
  }

  function summaryPanel() {
    var counts = {};
    edges.forEach(function (e) { counts[e.cls] = (counts[e.cls] || 0) + 1; });
    var kids = [h('h2', {}, ['Overview']), h('div', {}, [layer.caption]),
      h('h3', {}, ['Peerings by class']), h('ul', {}, CLASSES.slice().reverse().filter(function (c) { return counts[c]; })
        .map(function (c) { return h('li', {}, [classBadge(c), String(counts[c])]); })),
      h('h3', {}, ['How to use']), h('ul', {}, [
        h('li', {}, ['Click an edge (peering) or a VPC for its flows, findings and what to tighten.']),
        h('li', {}, ['Click a collapsed account to expand it; thick edges between accounts aggregate peerings.']),
        h('li', {}, ['Wheel to zoom, drag to pan; search by id, name, CIDR or an IP address.']),
        vpcs.some(function (v) { return !v.snap; }) ? h('li', {}, ['Dashed VPCs marked ? are unseen: ' +
          'not in the snapshot, seen only through their peerings.']) : null])];
    var on = {}, unattached = [];
    edges.forEach(function (e) { e.f.forEach(function (i) { on[i] = true; }); });
    vpcs.forEach(function (v) { v.f.forEach(function (i) { on[i] = true; }); });
    findings.forEach(function (f, i) { if (!on[i]) { unattached.push(i); } });
    if (unattached.length) { kids = kids.concat(findingList(unattached, 'Findings on no VPC or peering')); }
    return kids;
  }

  function select(sel, centre) {
    state.sel = sel;
    if (sel && sel.type === 'vpc' && !sel.obj.acct.expanded) { sel.obj.acct.expanded = true; render(); }
    if (sel && sel.type === 'edge' && (!sel.obj.a.acct.expanded || !sel.obj.b.acct.expanded)) {
      sel.obj.a.acct.expanded = true; sel.obj.b.acct.expanded = true; render();
    }
    markSelection();
    if (!sel) { show(summaryPanel()); return; }
    if (sel.type === 'edge') { show(edgePanel(sel.obj)); }
    if (sel.type === 'vpc') { show(vpcPanel(sel.obj)); }
    if (sel.type === 'acct') { show(acctPanel(sel.obj)); }
    if (sel.type === 'agg') { show(aggPanel(sel.obj)); }
    if (centre) {
      var o = sel.obj;
      if (sel.type === 'vpc') { centreOn(o.x, o.y); }
      if (sel.type === 'acct') { centreOn(o.cx, o.cy); }
      if (sel.type === 'edge') { centreOn((o.a.x + o.b.x) / 2, (o.a.y + o.b.y) / 2); }
    }
  }

  // ---- search ------------------------------------------------------------------------------
  function ipv4(s) {
    var m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) { return null; }
    var n = 0;
    for (var i = 1; i <= 4; i++) { var b = +m[i]; if (b > 255) { return null; } n = n * 256 + b; }
    return n;
  }
  function inCidr(ip, cidr) {
    var parts = cidr.split('/');
    var base = ipv4(parts[0]), len = +parts[1];
    if (base === null || !(len >= 0 && len <= 32)) { return false; }
    var size = Math.pow(2, 32 - len);
    return Math.floor(ip / size) === Math.floor(base / size);
  }
  function search(raw) {
    var q = raw.trim().toLowerCase();
    if (!q) { return []; }
    var ip = ipv4(q), out = [];
    function has(s) { return s.toLowerCase().indexOf(q) >= 0; }
    vpcs.forEach(function (v) {
      var hit = has(v.id) || has(v.name) || v.cidrs.some(has) ||
        (ip !== null && v.cidrs.some(function (c) { return inCidr(ip, c); })) ||
        v.subnets.some(function (s) { return has(s[0]) || has(s[1]) || has(s[2]) ||
          (ip !== null && s[2].split(' ').some(function (c) { return inCidr(ip, c); })); });
      if (hit) { out.push({ type: 'vpc', obj: v, exact: v.id.toLowerCase() === q }); }
    });
    accounts.forEach(function (a) {
      if (has(a.id) || has(a.name)) { out.push({ type: 'acct', obj: a, exact: a.id === q }); }
    });
    edges.forEach(function (e) {
      if (has(e.id)) { out.push({ type: 'edge', obj: e, exact: e.id.toLowerCase() === q }); }
    });
    out.sort(function (x, y) { return (y.exact - x.exact); });
    return out;
  }
  function resultLabel(r) {
    if (r.type === 'vpc') { return 'VPC ' + vpcLabel(r.obj) + ' ' + r.obj.cidrs.join(', '); }
    if (r.type === 'acct') { return 'account ' + acctLabel(r.obj); }
    return 'peering ' + r.obj.id;
  }
  var searchBox = document.getElementById('search');
  var lastResults = [];
  searchBox.addEventListener('input', function () {
    lastResults = search(searchBox.value);
    state.matches = lastResults.filter(function (r) { return r.type === 'vpc'; }).map(function (r) { return r.obj; });
    render();
    if (!searchBox.value.trim()) { select(state.sel); return; }
    show([h('h2', {}, ['Search: ' + lastResults.length + ' result(s)']), h('ul', { id: 'results' },
      lastResults.slice(0, 200).map(function (r) { return h('li', {}, [linkTo(resultLabel(r), { type: r.type, obj: r.obj })]); }))]);
  });
  searchBox.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      lastResults = search(searchBox.value);
      if (lastResults.length) { select({ type: lastResults[0].type, obj: lastResults[0].obj }, true); }
    }
  });

  // ---- filters -----------------------------------------------------------------------------
  var fAccount = document.getElementById('f-account');
  accounts.forEach(function (a) { fAccount.appendChild(h('option', { value: a.id }, [acctLabel(a)])); });
  fAccount.addEventListener('change', function () {
    state.account = fAccount.value;
    accounts.forEach(function (a) { if (a.id === state.account) { a.expanded = true; } });
    render();
  });
  document.getElementById('f-severity').addEventListener('change', function (ev) { state.sev = ev.target.value; render(); });
  document.getElementById('f-flows').addEventListener('change', function (ev) { state.flows = ev.target.checked; render(); select(state.sel); });
  document.getElementById('f-hygiene').addEventListener('change', function (ev) { state.hygiene = ev.target.checked; render(); select(state.sel); });
  var fLayer = document.getElementById('f-layer');
  D.L.forEach(function (L, k) { fLayer.appendChild(h('option', { value: String(k) }, [L.layer])); });
  fLayer.disabled = D.L.length < 2;
  fLayer.addEventListener('change', function () { useLayer(+fLayer.value); render(); select(state.sel); });
  document.getElementById('b-expand').addEventListener('click', function () { accounts.forEach(function (a) { a.expanded = true; }); render(); });
  document.getElementById('b-collapse').addEventListener('click', function () { accounts.forEach(function (a) { a.expanded = false; }); render(); });
  document.getElementById('b-fit').addEventListener('click', function () { fit(); });

  // ---- legend ------------------------------------------------------------------------------
  (function () {
    var legend = document.getElementById('legend');
    var present = {};
    D.L.forEach(function (L) { L.e.forEach(function (x) { present[x[0]] = true; }); });
    CLASSES.slice().reverse().forEach(function (c) {
      var s = svgEl('svg', { width: 26, height: 8 });
      svgEl('line', { x1: 0, y1: 4, x2: 26, y2: 4, 'class': 'c-' + c, 'stroke-width': 3,
        'stroke-dasharray': c === 'idle' ? '2 4' : (c === 'broken' ? '9 5' : '') }, s);
      legend.appendChild(h('span', { 'class': present[c] ? '' : 'muted', title: c }, [s, c]));
    });
    if (vpcs.some(function (v) { return !v.snap; })) {
      var u = svgEl('svg', { width: 14, height: 14 });
      svgEl('circle', { cx: 7, cy: 7, r: 5.5, 'class': 'unseen-key' }, u);
      legend.appendChild(h('span', { title: 'not in the snapshot, seen only through its peerings' }, [u, 'unseen VPC']));
    }
    if (D.m.diff) {
      legend.appendChild(h('span', {}, ['halo: green added, grey removed, blue changed']));
    }
  })();

  // ---- pan and zoom ------------------------------------------------------------------------
  var view = { x: 0, y: 0, k: 1 };
  function apply() {
    vp.setAttribute('transform', 'translate(' + view.x + ',' + view.y + ') scale(' + view.k + ')');
    // Level of detail: fewer words when zoomed out, so large maps stay readable and fast.
    svg.classList.toggle('lod-mid', view.k < 0.75);
    svg.classList.toggle('lod-low', view.k < 0.4);
  }
  function fit() {
    var r = svg.getBoundingClientRect();
    var W = Math.max(world.w, 1) + 80, H = Math.max(world.h, 1) + 80;
    view.k = Math.min(r.width / W, r.height / H, 1.6);
    view.x = (r.width - world.w * view.k) / 2;
    view.y = (r.height - world.h * view.k) / 2;
    apply();
  }
  function centreOn(x, y) {
    var r = svg.getBoundingClientRect();
    view.k = Math.max(view.k, 0.8);
    view.x = r.width / 2 - x * view.k;
    view.y = r.height / 2 - y * view.k;
    apply();
  }
  svg.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var r = svg.getBoundingClientRect();
    var mx = ev.clientX - r.left, my = ev.clientY - r.top;
    var k = Math.min(8, Math.max(0.02, view.k * Math.exp(-ev.deltaY * 0.0015)));
    view.x = mx - (mx - view.x) * k / view.k;
    view.y = my - (my - view.y) * k / view.k;
    view.k = k;
    apply();
  }, { passive: false });
  var drag = null;
  svg.addEventListener('mousedown', function (ev) {
    if (ev.button !== 0) { return; }
    drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y };
    dragged = false;
  });
  window.addEventListener('mousemove', function (ev) {
    if (!drag) { return; }
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (!dragged && Math.abs(dx) + Math.abs(dy) > 4) { dragged = true; svg.classList.add('dragging'); }
    if (dragged) { view.x = drag.vx + dx; view.y = drag.vy + dy; apply(); }
  });
  window.addEventListener('mouseup', function () { drag = null; svg.classList.remove('dragging'); });
  svg.addEventListener('click', function () { if (!dragged) { select(null); } });

  render();
  fit();
  select(null);
  // A link may name what to select: map.html#pcx-… (or a VPC or account id).
  if (location.hash.length > 1) {
    var wanted = search(decodeURIComponent(location.hash.slice(1))).filter(function (r) { return r.exact; })[0];
    if (wanted) { select({ type: wanted.type, obj: wanted.obj }); }
  }
  window.peerscopeReady = true;
  // For measurements (docs/performance.md): milliseconds from navigation to the first picture.
  document.body.setAttribute('data-ready-ms', String(Math.round(performance.now())));
}
