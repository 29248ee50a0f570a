/** The console's style sheet: plain, readable, and with visible keyboard focus. */
export const STYLE = `
:root { --fg: #16191f; --muted: #5f6b7a; --line: #d1d5db; --accent: #0972d3; --bad: #d91515; --ok: #037f0c; --bg: #f2f3f3; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 16px; align-items: center; padding: 8px 16px; background: #232f3e; color: #fff; flex-wrap: wrap; }
header h1 { font-size: 16px; margin: 0 16px 0 0; }
header nav a { color: #fff; margin-right: 12px; text-decoration: none; padding: 4px 6px; border-radius: 4px; }
header nav a[aria-current="page"] { background: #3b4a5c; }
header .who { margin-left: auto; display: flex; gap: 8px; align-items: center; }
header .who label { color: #d1d5db; }
header select, header button { font: inherit; }
main { padding: 16px; }
section.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; }
h2 { font-size: 18px; margin: 4px 0 12px; }
h3 { font-size: 15px; margin: 12px 0 8px; }
form.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; }
form.filters label, .field { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; background: #fff; color: var(--fg); }
button { cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.toolbar { display: flex; gap: 8px; align-items: center; margin: 12px 0; flex-wrap: wrap; }
.toolbar .spacer { flex: 1; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.error { color: var(--bad); }
a.button, a.download { display: inline-block; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; color: var(--fg); text-decoration: none; background: #fff; }
button.link { border: none; background: none; color: var(--accent); padding: 0; text-decoration: underline; }
pre { background: #0f1b2a; color: #e9ecef; padding: 12px; border-radius: 6px; overflow: auto; max-height: 480px; font-size: 12px; }
.compare { display: grid; gap: 12px; grid-auto-flow: column; grid-auto-columns: minmax(280px, 1fr); overflow-x: auto; }
.compare .diff { background: #fff3cd; color: #16191f; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; word-break: break-all; }
.status-on { color: var(--ok); font-weight: 600; }
.status-off { color: var(--bad); font-weight: 600; }
.message { padding: 8px 12px; border-radius: 6px; background: #fff; border: 1px solid var(--line); }
.message.error { border-color: var(--bad); color: var(--bad); }
.signin { max-width: 420px; margin: 48px auto; }
.signin form { display: flex; flex-direction: column; gap: 12px; }
.signin label { display: flex; flex-direction: column; gap: 4px; }
.muted { color: var(--muted); }
svg.chart { background: #fff; border: 1px solid var(--line); border-radius: 4px; }
svg.chart .baseline { stroke: var(--muted); stroke-dasharray: 4 3; stroke-width: 2; fill: none; }
svg.chart .insight { fill: #fde2d0; }
svg.chart .series { stroke: #d45b07; stroke-width: 2; fill: none; }
svg.chart text { font-size: 11px; fill: var(--fg); }
[hidden] { display: none !important; }
`;
