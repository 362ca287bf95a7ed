// rareflow dashboard: scenario picker, levers, runs, charts, past runs and comparison.
// Plain browser JavaScript (no build step). Text from the server is always set with
// textContent, never parsed as HTML.
"use strict";

(function () {
  const CHART_ORDER = ["sankey", "prices", "shortfalls", "shares", "reliance"];
  const NEW_CONTROL = "__new__";

  const state = {
    scenarios: {},      // name -> scenario description from /api/scenarios
    bounds: null,
    view: null,         // the run on screen
    previous: null,     // headline numbers of the run shown before it
    compareA: null,
    compareB: null,
    compareRows: [],
    compareSeries: [],
    job: null,          // the job id of the run in progress
    busy: false,
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) node.append(child);
    return node;
  }

  async function api(path, options) {
    const response = await fetch(path, options);
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.error ? body.error : `${response.status} ${response.statusText}`;
      throw new Error(message);
    }
    return body;
  }

  function setStatus(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.dataset.kind = kind || "info";
  }

  function showError(message) {
    const box = $("form-error");
    box.textContent = message;
    box.hidden = !message;
  }

  // ---- levers -------------------------------------------------------------------------------

  function buildElementChips() {
    const holder = $("ec-elements");
    holder.replaceChildren();
    for (const symbol of state.bounds.elements) {
      const box = el("input", { type: "checkbox", value: symbol, id: `ec-el-${symbol}` });
      holder.append(el("label", { class: "chip", htmlFor: box.id }, box, symbol));
    }
  }

  function setControl(control) {
    $("ec-enabled").checked = control.enabled;
    $("ec-start").value = control.start;
    $("ec-end").value = control.end || "";
    for (const box of $("ec-elements").querySelectorAll("input")) {
      box.checked = control.elements.includes(box.value);
    }
    $("ec-mode").value = control.mode;
    $("ec-approval").value = Math.round(control.approval_share * 100);
    syncControlFields();
  }

  function syncControlFields() {
    $("ec-fields").classList.toggle("disabled", !$("ec-enabled").checked);
    $("ec-approval-label").hidden = $("ec-mode").value !== "licence";
    const policy = $("ec-policy").value;
    $("ec-hint").textContent = policy === NEW_CONTROL
      ? "Adds a Chinese control on oxide, metal and magnets to all destinations."
      : `Edits this scenario's policy “${policyTitle(currentScenario(), policy)}”; untick “In force” to drop it.`;
    $("ec-hint").title = policy === NEW_CONTROL ? "" : policy;
  }

  function fillPolicyChoices(scenario) {
    const select = $("ec-policy");
    select.replaceChildren();
    for (const id of Object.keys(scenario.targets.export_controls)) {
      select.append(el("option", { value: id, text: policyTitle(scenario, id), title: id }));
    }
    select.append(el("option", { value: NEW_CONTROL, text: "add a new control" }));
  }

  function onPolicyChoice() {
    const scenario = currentScenario();
    const id = $("ec-policy").value;
    if (id === NEW_CONTROL) {
      const fresh = scenario.defaults.export_control.policy === null
        ? scenario.defaults.export_control
        : { enabled: true, start: "2026-01-01", end: null, elements: ["Tb", "Dy"],
            mode: "ban", approval_share: 0.5 };
      setControl({ ...fresh, enabled: true });
    } else {
      setControl({ ...scenario.targets.export_controls[id], enabled: true });
    }
  }

  function policyTitle(scenario, id) {
    const policy = (scenario.policies || []).find((p) => p.id === id);
    return policy ? policy.title : id;
  }

  // A hint naming a scenario's policy in words; its id goes in the tooltip.
  function setTargetHint(hintId, scenario, id, text) {
    const hint = $(hintId);
    hint.textContent = id ? `Edits “${policyTitle(scenario, id)}”; 0 removes it.` : text;
    hint.title = id || "";
  }

  function applyLevers(scenario, levers) {
    fillPolicyChoices(scenario);
    const control = levers.export_control;
    $("ec-policy").value = control.policy || NEW_CONTROL;
    setControl(control);
    setPair("floor-range", "price-floor", levers.price_floor_usd_per_kg);
    setPair("offtake-range", "offtake-share", Math.round(levers.offtake_share * 100));
    $("recycling-share").value = Math.round(levers.recycling_share * 100);
    $("recycling-year").value = levers.recycling_by_year;
    $("delay-announced").value = levers.delay_announced_years;
    $("delay-construction").value = levers.delay_under_construction_years;
    const targets = scenario.targets;
    setTargetHint("floor-hint", scenario, targets.price_floor,
      "None in this scenario; a value above 0 adds a floor for MP Materials' NdPr oxide (DoD terms: from Oct 2025, 10 years).");
    setTargetHint("offtake-hint", scenario, targets.offtake,
      "None in this scenario; a value above 0 adds a US offtake of the MP 10X plant (DoD terms: from 2028, 10 years).");
    setTargetHint("recycling-hint", scenario, targets.recycling_target,
      "None in this scenario; a share above 0 adds a binding US target, rising linearly from 2025.");
  }

  function setPair(rangeId, numberId, value) {
    $(rangeId).value = value;
    $(numberId).value = value;
  }

  function linkPair(rangeId, numberId) {
    $(rangeId).addEventListener("input", () => { $(numberId).value = $(rangeId).value; });
    $(numberId).addEventListener("input", () => { $(rangeId).value = $(numberId).value; });
  }

  function currentScenario() {
    return state.scenarios[$("scenario").value];
  }

  function selectScenario(name, levers, years) {
    const scenario = state.scenarios[name];
    $("scenario").value = name;
    $("scenario").title = name;
    $("scenario-description").textContent = scenario.description;
    const span = years || scenario.years || { start: 2024, end: 2040 };
    $("year-start").value = span.start;
    $("year-end").value = span.end;
    applyLevers(scenario, levers || scenario.defaults);
  }

  function number(id, name) {
    const text = $(id).value.trim();
    const value = Number(text);
    if (text === "" || !Number.isFinite(value)) throw new Error(`${name}: enter a number.`);
    return value;
  }

  function readRequest() {
    const policy = $("ec-policy").value;
    const elements = [...$("ec-elements").querySelectorAll("input:checked")].map((box) => box.value);
    const enabled = $("ec-enabled").checked;
    if (enabled && elements.length === 0) throw new Error("Pick at least one element for the export control.");
    const control = {
      policy: policy === NEW_CONTROL ? null : policy,
      enabled,
      start: $("ec-start").value,
      end: $("ec-end").value || null,
      elements: elements.length ? elements : ["Dy"],
      mode: $("ec-mode").value,
      approval_share: number("ec-approval", "Approved share") / 100,
    };
    return {
      scenario: $("scenario").value,
      years: { start: number("year-start", "First year"), end: number("year-end", "Last year") },
      levers: {
        export_control: control,
        price_floor_usd_per_kg: number("price-floor", "Price floor"),
        offtake_share: number("offtake-share", "Offtake share") / 100,
        recycling_share: number("recycling-share", "Recycling share") / 100,
        recycling_by_year: number("recycling-year", "Recycling target year"),
        delay_announced_years: number("delay-announced", "Delay of announced projects"),
        delay_under_construction_years: number("delay-construction", "Delay of projects under construction"),
      },
    };
  }

  // ---- running ------------------------------------------------------------------------------

  const POLL_MS = 300;
  const JSON_HEADERS = { "Content-Type": "application/json" };
  const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  // A run goes to the server as a job; the page polls it for each finished year and can
  // cancel it (the server then stores nothing).
  async function runScenario(event) {
    event.preventDefault();
    if (state.busy) return;
    showError("");
    let request;
    try {
      request = readRequest();
    } catch (error) {
      showError(error.message);
      return;
    }
    setBusy(true);
    const started = performance.now();
    const name = $("scenario").selectedOptions[0]?.textContent || request.scenario;
    try {
      let job = await api("/api/jobs", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(request) });
      state.job = job.job_id;
      while (job.state === "running" || job.state === "cancelling") {
        showProgress(job, name, started);
        await sleep(POLL_MS);
        job = await api(`/api/jobs/${job.job_id}`);
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (job.state === "done") {
        showView(job.view);
        setStatus(`Run ${job.view.run.run_id} finished in ${seconds} s`, "ok");
        await refreshRuns();
      } else if (job.state === "cancelled") {
        setStatus(`Run cancelled after ${job.done_years} of ${job.total_years} years; nothing was stored`, "info");
      } else {
        showError(job.error || "The run failed.");
        setStatus("Run failed", "error");
      }
    } catch (error) {
      showError(error.message);
      setStatus("Run failed", "error");
    } finally {
      state.job = null;
      setBusy(false);
    }
  }

  function showProgress(job, name, started) {
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    const bar = $("run-progress");
    bar.max = job.total_years;
    bar.value = job.done_years;
    const where = job.last_year ? `, last finished ${job.last_year}` : "";
    const text = job.state === "cancelling"
      ? "Cancelling…"
      : `${job.done_years} of ${job.total_years} years${where} · ${seconds} s`;
    $("run-progress-text").textContent = text;
    setStatus(`Running “${name}”: ${text}`, "busy");
  }

  async function cancelRun() {
    if (!state.job) return;
    $("cancel-button").disabled = true;
    try {
      await api(`/api/jobs/${state.job}`, { method: "DELETE", headers: JSON_HEADERS, body: "{}" });
    } catch (error) {
      setStatus(error.message, "error");
    }
  }

  function setBusy(busy) {
    state.busy = busy;
    const button = $("run-button");
    button.disabled = busy;
    button.setAttribute("aria-busy", String(busy));
    button.textContent = busy ? "Running…" : "Run scenario";
    $("cancel-button").hidden = !busy;
    $("cancel-button").disabled = false;
    $("run-progress-box").hidden = !busy;
    if (busy) {
      $("run-progress").value = 0;
      $("run-progress-text").textContent = "Starting…";
    }
    document.body.classList.toggle("busy", busy);
  }

  // ---- showing a run ------------------------------------------------------------------------

  function showView(view) {
    if (state.view) state.previous = { run: state.view.run, headline: state.view.headline };
    state.view = view;
    const run = view.run;
    const years = view.years;
    $("run-title").textContent = `${run.title || run.scenario} · ${years[0]}–${years[years.length - 1]}`;
    $("run-title").title = run.scenario;
    $("run-title").dataset.runId = run.run_id;
    $("run-meta").textContent = `Run ${run.run_id}, based on “${run.base_title || run.base_scenario}”, created ${formatTime(run.created_at)}.`;
    const words = run.changes_in_words || run.changes;
    $("run-changes").replaceChildren(
      ...(words.length ? words.map((text, i) => el("li", { text, title: run.changes[i] }))
        : [el("li", { text: "scenario as bundled, no lever changed" })]),
    );
    showHeadline(view.headline);
    showCharts(view.figures);
    fillSankeyYears(years);
    showAnswers(view.answers);
  }

  function showHeadline(cards) {
    const before = {};
    if (state.previous) for (const card of state.previous.headline) before[card.key] = card;
    const holder = $("headline");
    holder.replaceChildren();
    for (const card of cards) {
      const box = el("div", { class: "metric", "data-key": card.key, title: card.question },
        el("div", { class: "metric-label", text: card.label }),
        el("div", { class: "metric-value", text: card.answer }));
      const old = before[card.key];
      if (old && old.value !== null && card.value !== null) {
        const change = card.value - old.value;
        const delta = el("div", { class: "metric-delta" });
        if (Math.abs(change) < 1e-9 * Math.max(1, Math.abs(old.value))) {
          delta.textContent = "same as previous run";
        } else {
          const better = (change > 0) === card.higher_is_better;
          delta.classList.add(better ? "better" : "worse");
          delta.textContent = `${change > 0 ? "▲" : "▼"} ${formatAmount(Math.abs(change), card.unit)} vs previous run`;
        }
        box.append(delta);
      }
      holder.append(box);
    }
  }

  function showCharts(figures) {
    const holder = $("charts");
    const keys = [...CHART_ORDER.filter((key) => key in figures),
      ...Object.keys(figures).filter((key) => !CHART_ORDER.includes(key))];
    for (const node of [...holder.children]) {
      if (!keys.includes(node.dataset.chart)) {
        for (const chart of node.querySelectorAll(".chart")) Plotly.purge(chart);
        node.remove();
      }
    }
    // Draw into a visible section: Plotly sizes a chart from its container's width.
    $("charts-section").hidden = keys.length === 0;
    for (const key of keys) {
      let node = $(`chart-${key}`);
      if (!node) {
        node = el("div", { class: `chart chart-${key}`, id: `chart-${key}` });
        const download = el("button", { type: "button", class: "csv-button", id: `csv-${key}`,
          text: "Download data (CSV)", title: "The numbers this chart shows, as CSV" });
        download.addEventListener("click", () => downloadChartData(key, node));
        holder.append(el("div", { class: `chart-box chart-box-${key}`, "data-chart": key },
          node, el("div", { class: "chart-tools" }, download)));
      }
      drawFigure(node, figures[key]);
    }
  }

  // ---- chart data as CSV --------------------------------------------------------------------

  function csvCell(value) {
    if (value === null || value === undefined) return "";
    const text = String(value);
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function toCsv(rows) {
    return rows.map((row) => row.map(csvCell).join(",")).join("\n") + "\n";
  }

  // The numbers a chart shows (its visible traces), from Plotly's own decoded data.
  function chartRows(node) {
    const traces = (node._fullData || []).filter((trace) => trace.visible === true);
    const sankey = traces.find((trace) => trace.type === "sankey");
    if (sankey) {
      const labels = sankey.node.customdata || sankey.node.label;
      const link = sankey.link;
      const rows = [["from", "to", "t REO"]];
      for (let i = 0; i < link.value.length; i++) {
        rows.push([labels[link.source[i]], labels[link.target[i]], link.value[i]]);
      }
      return rows;
    }
    const rows = [["series", "x", "y"]];
    for (const trace of traces) {
      const xs = trace.x || [];
      const ys = trace.y || [];
      for (let i = 0; i < Math.min(xs.length, ys.length); i++) rows.push([trace.name, xs[i], ys[i]]);
    }
    return rows;
  }

  function downloadChartData(key, node) {
    const runId = state.view ? state.view.run.run_id : "run";
    const blob = new Blob([toCsv(chartRows(node))], { type: "text/csv" });
    const link = el("a", { href: URL.createObjectURL(blob), download: `rareflow-${runId}-${key}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // ---- charts that fit the screen -----------------------------------------------------------

  const NARROW = 600;  // px of chart width below which charts use their compact layout

  function wrapText(text, width) {
    // Break a title into lines of at most ``width`` characters, on spaces (Plotly's <br>).
    const words = String(text).split(" ");
    const lines = [];
    let line = "";
    for (const word of words) {
      if (line && (line + " " + word).length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    if (line) lines.push(line);
    return lines;
  }

  function abbreviate(label, max) {
    return label.length <= max ? label : `${label.slice(0, max - 1).trimEnd()}…`;
  }

  // Sankey node labels: the full name in the hover text; on screen, only nodes large enough to
  // carry a label, shortened on narrow screens, so labels never pile up.
  function fitSankey(trace, width) {
    const node = { ...trace.node };
    const labels = node.label || [];
    const through = labels.map(() => [0, 0]);
    const link = trace.link || {};
    (link.value || []).forEach((value, i) => {
      through[link.source[i]][1] += value;
      through[link.target[i]][0] += value;
    });
    const size = through.map(([inflow, outflow]) => Math.max(inflow, outflow));
    const largest = Math.max(1e-9, ...size);
    const threshold = width < NARROW ? 0.06 : width < 1000 ? 0.02 : 0.004;
    const columns = new Set(node.x || [0]).size;
    const charWidth = width < NARROW ? 6 : 7;
    const longest = Math.max(4, Math.floor((width - 60) / Math.max(1, columns) / charWidth) - 2);
    node.customdata = labels;
    node.hovertemplate = "%{customdata}: %{value}<extra></extra>";
    // Narrow: the stage is the column's place, so a node shows its region only ("China").
    const short = (label) => (width < 1000 && label.includes(" · ") ? label.split(" · ").pop() : label);
    node.label = labels.map((label, i) =>
      size[i] / largest >= threshold ? abbreviate(short(String(label)), longest) : "");
    return { ...trace, node, textfont: { size: width < NARROW ? 10 : 12 } };
  }

  function fitFigure(figure, width) {
    const layout = JSON.parse(JSON.stringify(figure.layout || {}));
    const narrow = width < NARROW;
    const titleText = layout.title && (typeof layout.title === "string" ? layout.title : layout.title.text);
    const perLine = Math.max(24, Math.floor((width - 30) / (narrow ? 8 : 9.5)));
    const titleLines = titleText ? wrapText(titleText, perLine) : [];
    const menus = layout.updatemenus || [];
    const titleHeight = titleLines.length * (narrow ? 19 : 22);
    const menuHeight = menus.length ? 34 : 0;
    if (titleText) {
      layout.title = { ...(typeof layout.title === "object" ? layout.title : {}),
        text: titleLines.join("<br>"), x: 0, xanchor: "left", xref: "container",
        y: 1, yanchor: "top", yref: "container", pad: { t: 10, l: 10 },
        font: { ...((layout.title || {}).font || {}), size: narrow ? 14 : 17 } };
    }
    layout.margin = { ...(layout.margin || {}) };
    layout.margin.t = Math.max(layout.margin.t || 0, titleHeight + menuHeight + 24);
    // Region menus sit on their own line below the title, never over it.
    layout.updatemenus = menus.map((menu) => ({ ...menu, x: 0, xanchor: "left", xref: "paper",
      y: 1, yanchor: "bottom", yref: "paper", pad: { b: 8 } }));
    let data = figure.data;
    if (data.some((trace) => trace.type === "sankey")) {
      data = data.map((trace) => (trace.type === "sankey" ? fitSankey(trace, width) : trace));
      if (narrow) layout.height = Math.max(layout.height || 0, 760);
    } else {
      // Legends below the plot, in rows, at every width.
      const entries = data.filter((trace) => trace.showlegend !== false && trace.name).length;
      const perRow = Math.max(1, Math.floor(width / (narrow ? 150 : 190)));
      const rows = Math.ceil(entries / perRow);
      layout.legend = { ...(layout.legend || {}), orientation: "h", x: 0, xanchor: "left",
        y: narrow ? -0.2 : -0.14, yanchor: "top", font: { size: narrow ? 11 : 12 } };
      const base = layout.height || 460;
      layout.height = base + Math.max(0, rows - 1) * 20 + (narrow ? 40 : 0);
      layout.margin.b = Math.max(layout.margin.b || 0, 60);
      if (narrow) {
        layout.margin.l = Math.min(layout.margin.l || 70, 56);
        layout.margin.r = layout.yaxis2 ? Math.min(layout.margin.r || 56, 56) : 12;
      }
    }
    return { data, layout };
  }

  function drawFigure(node, figure) {
    node.figure = figure;
    const width = node.clientWidth || node.parentElement.clientWidth || window.innerWidth;
    node.dataset.fitWidth = String(width < NARROW ? "narrow" : "wide");
    const fitted = fitFigure(figure, width);
    Plotly.react(node, fitted.data, fitted.layout, {
      responsive: true, displaylogo: false, displayModeBar: width >= NARROW ? "hover" : false,
      modeBarButtonsToRemove: ["sendDataToCloud"],
    });
  }

  let resizeTimer = null;
  function onResize() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const node of document.querySelectorAll(".chart")) {
        if (node.figure) drawFigure(node, node.figure);
      }
    }, 200);
  }

  function fillSankeyYears(years) {
    const select = $("sankey-year");
    select.replaceChildren(...years.map((year) => el("option", { value: year, text: year })));
    select.value = years[years.length - 1];
    const elements = $("sankey-element");
    elements.replaceChildren(el("option", { value: "", text: "all elements" }),
      ...(state.view.elements || []).map((symbol) => el("option", { value: symbol, text: symbol })));
    $("sankey-tools").hidden = !("sankey" in (state.view.figures || {}));
  }

  async function onSankeyYear() {
    if (!state.view) return;
    const year = $("sankey-year").value;
    const element = $("sankey-element").value;
    const query = `year=${encodeURIComponent(year)}${element ? `&element=${encodeURIComponent(element)}` : ""}`;
    try {
      const view = await api(`/api/runs/${state.view.run.run_id}?${query}`);
      if (view.figures.sankey) {
        state.view.figures.sankey = view.figures.sankey;
        drawFigure($("chart-sankey"), view.figures.sankey);
      }
    } catch (error) {
      setStatus(error.message, "error");
    }
  }

  function showAnswers(rows) {
    const body = $("answers").tBodies[0];
    body.replaceChildren(...rows.map((row) =>
      el("tr", {}, el("td", { text: row.label || row.question,
        title: row.definition ? `${row.question} (${row.definition})` : row.question }),
        el("td", { class: "num", text: row.answer }))));
    $("answers-section").hidden = rows.length === 0;
  }

  // ---- past runs and comparison -------------------------------------------------------------

  async function refreshRuns() {
    const data = await api("/api/runs?limit=100");
    const body = $("runs").tBodies[0];
    body.replaceChildren();
    for (const run of data.runs) {
      const years = run.years ? `${run.years[0]}–${run.years[1]}` : "";
      const pickA = el("input", { type: "radio", name: "cmp-a", value: run.run_id,
        disabled: !run.openable, checked: state.compareA === run.run_id, title: "Compare as A" });
      const pickB = el("input", { type: "radio", name: "cmp-b", value: run.run_id,
        disabled: !run.openable, checked: state.compareB === run.run_id, title: "Compare as B" });
      pickA.addEventListener("change", () => { state.compareA = run.run_id; syncCompare(); });
      pickB.addEventListener("change", () => { state.compareB = run.run_id; syncCompare(); });
      const open = el("button", { type: "button", text: "Open", disabled: !run.openable,
        title: run.openable ? "Show this run" : `${run.kind} run (${run.status}): open it with rareflow report` });
      open.addEventListener("click", () => openRun(run.run_id));
      const changes = run.changes.length ? (run.changes_in_words || run.changes).join("; ") : "—";
      body.append(el("tr", { "data-run-id": run.run_id },
        el("td", {}, pickA), el("td", {}, pickB),
        el("td", { class: "mono", text: run.run_id }),
        el("td", { text: run.title || run.scenario, title: run.scenario }),
        el("td", { text: years }),
        el("td", { class: "changes-cell", text: changes, title: changes }),
        el("td", { text: formatTime(run.created_at) }),
        el("td", {}, open)));
    }
    if (data.runs.length === 0) {
      body.append(el("tr", {}, el("td", { colSpan: 8, class: "empty", text: "No runs stored yet." })));
    }
    syncCompare();
  }

  function syncCompare() {
    $("compare-button").disabled = !(state.compareA && state.compareB && state.compareA !== state.compareB);
  }

  async function openRun(runId) {
    setStatus(`Opening run ${runId}…`, "busy");
    try {
      const view = await api(`/api/runs/${encodeURIComponent(runId)}`);
      const run = view.run;
      if (state.scenarios[run.base_scenario]) {
        const scenario = state.scenarios[run.base_scenario];
        const levers = { ...scenario.defaults, ...(run.levers || {}) };
        if (run.levers && run.levers.export_control) {
          levers.export_control = { end: null, ...run.levers.export_control };
        }
        selectScenario(run.base_scenario, levers,
          run.years ? { start: run.years[0], end: run.years[1] } : null);
      }
      showView(view);
      setStatus(`Showing run ${runId}`, "ok");
      $("summary").scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (error) {
      setStatus(error.message, "error");
    }
  }

  //: Comparison charts: a chart id, its heading, and the comparison sections it draws from.
  const COMPARE_CHARTS = [
    ["prices", "Prices", ["Prices"]],
    ["shortfalls", "Shortfalls and demand response", ["Shortfalls", "Demand response"]],
    ["shares", "Shares of production", ["Market shares and concentration"]],
    ["reliance", "Import reliance", ["Import reliance and stocks"]],
  ];

  async function compareRuns() {
    const a = state.compareA;
    const b = state.compareB;
    setStatus(`Comparing ${a} with ${b}…`, "busy");
    try {
      const query = `a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
      const data = await api(`/api/compare?${query}`);
      state.compareRows = data.rows;
      state.compareSeries = data.series;
      const title = $("compare-title");
      title.textContent = `A: ${data.a.title || data.a.scenario}  ·  B: ${data.b.title || data.b.scenario}`;
      title.title = `A = run ${data.a.run_id} (${data.a.scenario}), B = run ${data.b.run_id} (${data.b.scenario})`;
      $("compare-csv").href = `/api/compare.csv?${query}`;
      $("comparison").hidden = false;
      showComparisonCharts();
      showComparison();
      $("comparison").scrollIntoView({ behavior: "smooth", block: "start" });
      setStatus(`Compared ${a} with ${b}`, "ok");
    } catch (error) {
      setStatus(error.message, "error");
    }
  }

  function showComparisonCharts() {
    const holder = $("compare-charts");
    for (const node of holder.querySelectorAll(".chart")) Plotly.purge(node);
    holder.replaceChildren();
    for (const [key, heading, sections] of COMPARE_CHARTS) {
      const series = state.compareSeries.filter((entry) => sections.includes(entry.section));
      if (series.length === 0) continue;
      const select = el("select", { id: `compare-pick-${key}`, "aria-label": `${heading}: series` });
      series.forEach((entry, i) => select.append(el("option", { value: String(i), text: entry.label, title: entry.name })));
      // Start on the series whose runs differ most, relative to its size.
      const spread = series.map((entry) => Math.max(0, ...entry.difference.map((d) => Math.abs(d || 0)))
        / Math.max(1e-9, ...entry.a.map((v) => Math.abs(v || 0))));
      select.value = String(spread.indexOf(Math.max(...spread)));
      const chart = el("div", { class: `chart compare-${key}`, id: `compare-chart-${key}`, "data-chart": key });
      const box = el("div", { class: "compare-chart", "data-compare": key }, select, chart);
      holder.append(box);
      const draw = () => drawFigure(chart, compareFigure(heading, series[Number(select.value)]));
      select.addEventListener("change", draw);
      draw();
    }
  }

  function compareFigure(heading, entry) {
    const unit = entry.unit === "%" ? "%" : entry.unit;
    const diffUnit = entry.unit === "%" ? "pp" : entry.unit;
    return {
      data: [
        { type: "scatter", mode: "lines+markers", name: "A", x: entry.years, y: entry.a, line: { color: "#1f5fa8" } },
        { type: "scatter", mode: "lines+markers", name: "B", x: entry.years, y: entry.b, line: { color: "#c0392b", dash: "dash" } },
        { type: "bar", name: `B − A (${diffUnit})`, x: entry.years, y: entry.difference, yaxis: "y2", marker: { color: "rgba(120,120,120,0.35)" } },
      ],
      layout: {
        title: { text: `${heading}: ${entry.label}` },
        height: 400,
        margin: { l: 64, r: 56, t: 70, b: 60 },
        xaxis: { tickformat: "d", dtick: entry.years.length > 12 ? 2 : 1 },
        yaxis: { title: { text: unit } },
        yaxis2: { overlaying: "y", side: "right", showgrid: false, zeroline: true, title: { text: `B − A (${diffUnit})` } },
        template: "plotly_white",
        legend: { orientation: "h" },
      },
    };
  }

  function differs(row) {
    if (row.value_a === null || row.value_b === null) return row.value_a !== row.value_b;
    return Math.abs(row.value_b - row.value_a) > 1e-6 * Math.max(1, Math.abs(row.value_a));
  }

  function showComparison() {
    const only = $("only-differences").checked;
    const rows = state.compareRows.filter((row) => !only || differs(row));
    const body = $("compare-table").tBodies[0];
    body.replaceChildren(...rows.map((row) => {
      const shownA = row.answer_a || formatValue(row.value_a);
      const shownB = row.answer_b || formatValue(row.value_b);
      const diff = row.difference === null ? "" : signed(row.difference, row.unit);
      return el("tr", { class: differs(row) ? "diff" : "" },
        el("td", { text: row.label || row.question, title: row.question }),
        el("td", { class: "num", text: shownA }),
        el("td", { class: "num", text: shownB }),
        el("td", { class: "num", text: diff }),
        el("td", { text: row.unit }));
    }));
    if (rows.length === 0) {
      body.append(el("tr", {}, el("td", { colSpan: 5, class: "empty", text: "The two runs give the same numbers." })));
    }
  }

  // ---- formatting ---------------------------------------------------------------------------

  function formatNumber(value) {
    const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 1 : 2;
    return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  }

  // One money format everywhere: "$1,234 M"; percentage changes in percentage points.
  function formatAmount(value, unit) {
    if (unit === "USD million") return `$${formatNumber(value)} M`;
    if (unit === "%") return `${formatNumber(value)} pp`;
    return `${formatNumber(value)} ${unit}`;
  }

  function formatValue(value) {
    return value === null || value === undefined ? "n/a" : formatNumber(value);
  }

  function signed(value, unit) {
    const sign = value > 0 ? "+" : value < 0 ? "−" : "";
    return unit ? sign + formatAmount(Math.abs(value), unit) : sign + formatNumber(Math.abs(value));
  }

  function formatTime(iso) {
    const date = new Date(iso.endsWith("Z") || iso.includes("+") ? iso : `${iso}Z`);
    return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
  }

  // ---- start --------------------------------------------------------------------------------

  async function start() {
    try {
      const data = await api("/api/scenarios");
      state.bounds = data.bounds;
      for (const scenario of data.scenarios) state.scenarios[scenario.name] = scenario;
      const select = $("scenario");
      select.replaceChildren(...data.scenarios.map((s) =>
        el("option", { value: s.name, text: s.title || s.name, title: `${s.name}: ${s.description}` })));
      for (const id of ["year-start", "year-end"]) {
        $(id).min = data.bounds.years.min;
        $(id).max = data.bounds.years.max;
      }
      $("recycling-year").min = data.bounds.recycling_by_year.min;
      $("recycling-year").max = data.bounds.recycling_by_year.max;
      for (const id of ["delay-announced", "delay-construction"]) $(id).max = data.bounds.delay_years.max;
      buildElementChips();
      selectScenario(state.scenarios.baseline ? "baseline" : data.scenarios[0].name);
      await refreshRuns();
      setStatus("Ready", "ok");
      document.body.dataset.ready = "true";
    } catch (error) {
      setStatus(`Could not load the dashboard: ${error.message}`, "error");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("run-form").addEventListener("submit", runScenario);
    $("scenario").addEventListener("change", () => selectScenario($("scenario").value));
    $("reset-button").addEventListener("click", () => selectScenario($("scenario").value));
    $("ec-policy").addEventListener("change", onPolicyChoice);
    $("ec-enabled").addEventListener("change", syncControlFields);
    $("ec-mode").addEventListener("change", syncControlFields);
    $("sankey-year").addEventListener("change", onSankeyYear);
    $("sankey-element").addEventListener("change", onSankeyYear);
    $("refresh-runs").addEventListener("click", () => refreshRuns().catch((e) => setStatus(e.message, "error")));
    $("compare-button").addEventListener("click", compareRuns);
    $("cancel-button").addEventListener("click", cancelRun);
    $("only-differences").addEventListener("change", showComparison);
    window.addEventListener("resize", onResize);
    linkPair("floor-range", "price-floor");
    linkPair("offtake-range", "offtake-share");
    start();
  });
})();
