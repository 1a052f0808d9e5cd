"""The network widget's Vue 2 template (:class:`sim.viz.widgets.NetworkCanvas`): the social network on a
canvas. Positions, edges and the engaged community are decoded and drawn once per graph, view and size (an
offscreen background); each day only the users' markers are drawn over it, grouped into one path per
colour and shape. A click selects the nearest user.

Kept as a Python string (not a .vue file beside the module) so that a wheel install carries it.
"""

__all__ = ["TEMPLATE"]

TEMPLATE = r"""<template>
  <div class="viz-net" :data-day="drawnDay" :data-shown="shownCount" :data-selected="selected"
       :data-highlighted="contacts.length">
    <canvas ref="canvas" class="viz-net-canvas" @click="onClick" @mousemove="onMove" @mouseleave="hover = -1"
            role="img" :aria-label="label"></canvas>
    <div v-if="hover >= 0" class="viz-net-tip" :style="{left: (tipX + 12) + 'px', top: (tipY + 8) + 'px'}">
      user {{ hover }} · click to inspect
    </div>
  </div>
</template>
<script>
module.exports = {
  data() {
    return {hover: -1, tipX: 0, tipY: 0, drawnDay: -1, shownCount: 0};
  },
  mounted() {
    this.$refs.canvas.__viz = this;  // for the tests: node positions on the page
    this.decodeStatic();
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.$el);
    this.resize();
  },
  beforeDestroy() {
    if (this.resizeObserver) this.resizeObserver.disconnect();
  },
  watch: {
    positions() { this.staleStatic = true; this.drawAll(); },
    edges() { this.staleStatic = true; this.drawAll(); },
    shown() { this.staleStatic = true; this.drawAll(); },
    state() { this.drawSoon(); },
    day() { this.drawSoon(); },  // a quiet day leaves the state as it was, but the picture is of today
    selected() { this.drawAll(); },
    contacts() { this.drawAll(); },
  },
  methods: {
    bytes(b64) {
      const text = atob(b64 || '');
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
      return out;
    },
    decodeStatic() {
      const xy = new Uint16Array(this.bytes(this.positions).buffer);
      this.n = xy.length / 2;
      this.xy = xy;
      const shown = this.shown ? this.bytes(this.shown) : null;
      this.visible = new Uint8Array(this.n);
      for (let i = 0; i < this.n; i++) this.visible[i] = shown ? shown[i] : 1;
      this.shownCount = this.visible.reduce((a, b) => a + b, 0);
      this.edgeList = new Uint32Array(this.bytes(this.edges).buffer);
      this.engagedMask = this.engaged ? this.bytes(this.engaged) : null;
      // the view: the shown users' bounding box, with a margin
      let x0 = 1, x1 = 0, y0 = 1, y1 = 0;
      for (let i = 0; i < this.n; i++) {
        if (!this.visible[i]) continue;
        const x = xy[2 * i] / 65535, y = xy[2 * i + 1] / 65535;
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
      const span = Math.max(x1 - x0, y1 - y0, 0.05);
      this.view = {x: (x0 + x1) / 2 - span / 2 - span * 0.04, y: (y0 + y1) / 2 - span / 2 - span * 0.04,
                   span: span * 1.08};
      this.background = null;
    },
    resize() {
      const canvas = this.$refs.canvas;
      const width = Math.max(120, this.$el.clientWidth);
      const ratio = window.devicePixelRatio || 1;
      canvas.style.width = width + 'px';
      canvas.style.height = width + 'px';
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(width * ratio);
      this.size = width;
      this.ratio = ratio;
      this.background = null;
      this.draw();
    },
    px(i) {
      const v = this.view;
      return [(this.xy[2 * i] / 65535 - v.x) / v.span * this.size,
              (1 - (this.xy[2 * i + 1] / 65535 - v.y) / v.span) * this.size];
    },
    radius() {
      const area = this.size * this.size / Math.max(this.shownCount, 1);
      return Math.max(1.6, Math.min(7, 0.28 * Math.sqrt(area)));
    },
    drawAll() { this.background = null; this.drawSoon(); },
    drawSoon() {
      // one drawing for the changes of one message (state, day, selection arrive together)
      if (this.drawPending) return;
      this.drawPending = true;
      this.$nextTick(() => { this.drawPending = false; this.draw(); });
    },
    drawBackground() {
      // drawn once per graph, view and size: the engaged community's shading and the edges
      const canvas = document.createElement('canvas');
      canvas.width = this.$refs.canvas.width;
      canvas.height = this.$refs.canvas.height;
      const ctx = canvas.getContext('2d');
      ctx.scale(this.ratio, this.ratio);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, this.size, this.size);
      const r = this.radius();
      if (this.engagedMask) {
        ctx.fillStyle = 'rgba(204, 121, 167, 0.16)';
        ctx.beginPath();
        for (let i = 0; i < this.n; i++) {
          if (!this.visible[i] || !this.engagedMask[i]) continue;
          const [x, y] = this.px(i);
          ctx.moveTo(x + 3.2 * r, y);
          ctx.arc(x, y, 3.2 * r, 0, 2 * Math.PI);
        }
        ctx.fill();
      }
      const e = this.edgeList;
      const m = e.length / 2;
      let drawn = 0;
      ctx.beginPath();
      for (let k = 0; k < m; k++) {
        const a = e[2 * k], b = e[2 * k + 1];
        if (!this.visible[a] || !this.visible[b]) continue;
        const [xa, ya] = this.px(a);
        const [xb, yb] = this.px(b);
        ctx.moveTo(xa, ya);
        ctx.lineTo(xb, yb);
        drawn++;
      }
      ctx.strokeStyle = `rgba(120, 120, 120, ${Math.max(0.05, Math.min(0.35, 700 / Math.max(drawn, 1)))})`;
      ctx.lineWidth = 0.5;
      ctx.stroke();
      if (this.selected >= 0) {
        const [xs, ys] = this.px(this.selected);
        ctx.beginPath();
        for (const c of this.contacts) {
          const [x, y] = this.px(c);
          ctx.moveTo(xs, ys);
          ctx.lineTo(x, y);
        }
        ctx.strokeStyle = 'rgba(17, 17, 17, 0.7)';
        ctx.lineWidth = 1;
        ctx.stroke();
      }
      this.background = canvas;
    },
    draw() {
      if (this.staleStatic) { this.staleStatic = false; this.decodeStatic(); }
      if (!this.size || !this.xy) return;
      if (!this.background) this.drawBackground();
      const canvas = this.$refs.canvas;
      const ctx = canvas.getContext('2d');
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(this.background, 0, 0);
      ctx.scale(this.ratio, this.ratio);
      const codes = this.bytes(this.state);
      const r = this.radius();
      const focus = this.selected >= 0 ? new Set([this.selected, ...this.contacts]) : null;
      // one path per (colour, shape, ring, faded): a few fills for thousands of users
      const groups = {};
      for (let i = 0; i < this.n && i < codes.length; i++) {
        if (!this.visible[i]) continue;
        const code = codes[i];
        const none = code & 64;
        const faded = focus && !focus.has(i) ? 1 : 0;
        const key = `${none ? -1 : code & 15}|${code & 32 ? 1 : 0}|${code & 16 ? 1 : 0}|${faded}`;
        (groups[key] = groups[key] || []).push(i);
      }
      for (const key of Object.keys(groups)) {
        const [colour, diamond, ring, faded] = key.split('|').map(Number);
        ctx.globalAlpha = faded ? 0.18 : 1;
        ctx.beginPath();
        for (const i of groups[key]) {
          const [x, y] = this.px(i);
          if (diamond) {
            const d = r * 1.45;
            ctx.moveTo(x, y - d); ctx.lineTo(x + d, y); ctx.lineTo(x, y + d); ctx.lineTo(x - d, y); ctx.closePath();
          } else {
            const rr = ring ? r * 1.35 : r;
            ctx.moveTo(x + rr, y);
            ctx.arc(x, y, rr, 0, 2 * Math.PI);
          }
        }
        ctx.fillStyle = colour < 0 ? '#ffffff' : this.colours[colour];
        ctx.fill();
        if (colour < 0 || diamond || ring) {
          ctx.strokeStyle = '#111111';
          ctx.lineWidth = ring ? Math.max(1.2, r * 0.55) : Math.max(0.8, r * 0.3);
          ctx.stroke();
        }
      }
      ctx.globalAlpha = 1;
      if (this.selected >= 0) {
        const [x, y] = this.px(this.selected);
        ctx.beginPath();
        ctx.arc(x, y, r * 2.6 + 2, 0, 2 * Math.PI);
        ctx.strokeStyle = '#111111';
        ctx.lineWidth = 2.5;
        ctx.stroke();
      }
      this.drawnDay = this.day;
    },
    nearest(ev) {
      const rect = this.$refs.canvas.getBoundingClientRect();
      const mx = ev.clientX - rect.left, my = ev.clientY - rect.top;
      const limit = Math.max(2 * this.radius(), 8);
      let best = -1, bestD = limit * limit;
      for (let i = 0; i < this.n; i++) {
        if (!this.visible[i]) continue;
        const [x, y] = this.px(i);
        const d = (x - mx) * (x - mx) + (y - my) * (y - my);
        if (d < bestD) { bestD = d; best = i; }
      }
      return [best, mx, my];
    },
    onClick(ev) {
      const [i] = this.nearest(ev);
      this.select(i);
    },
    onMove(ev) {
      const [i, x, y] = this.nearest(ev);
      this.hover = i;
      this.tipX = x;
      this.tipY = y;
    },
    pixelOf(i) {
      // for the tests: page coordinates of user i
      const rect = this.$refs.canvas.getBoundingClientRect();
      const [x, y] = this.px(i);
      return [rect.left + x, rect.top + y];
    },
  },
};
</script>
<style id="viz-network-style">
.viz-net { position: relative; width: 100%; }
.viz-net-canvas { display: block; cursor: crosshair; }
.viz-net-tip { position: absolute; pointer-events: none; background: rgba(255, 255, 255, 0.95); font-size: 12px;
  border: 1px solid #bbb; border-radius: 3px; padding: 1px 5px; white-space: nowrap; }
</style>
"""
