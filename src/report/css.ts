/** The report's stylesheet, scoped under .segsync-report so the dashboard can include it as is. */
export const REPORT_CSS = `
.segsync-report { --ink: #1f2328; --muted: #5b636d; --line: #e3e6ea; --bg: #f6f7f9; --card: #fff; --accent: #2f5f98;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
  line-height: 1.45; font-size: 15px; max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
.segsync-report h1 { font-size: 26px; margin: 0 0 4px; }
.segsync-report h2 { font-size: 20px; margin: 0 0 6px; }
.segsync-report h3 { font-size: 16px; margin: 0 0 6px; display: flex; align-items: center; gap: 8px; }
.segsync-report h4 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 12px 0 4px; }
.segsync-report .ss-meta, .segsync-report .ss-intro, .segsync-report .ss-note { color: var(--muted); margin: 0 0 12px; max-width: 78ch; }
.segsync-report .ss-note { font-size: 13px; }
.segsync-report nav { margin: 14px 0 8px; display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 14px; }
.segsync-report nav a { color: var(--accent); text-decoration: none; }
.segsync-report .ss-figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0 4px; }
.segsync-report .ss-figure { background: var(--bg); border-radius: 8px; padding: 10px 14px; min-width: 140px; }
.segsync-report .ss-figure b { display: block; font-size: 22px; }
.segsync-report .ss-figure span { color: var(--muted); font-size: 13px; }
.segsync-report .ss-section { border-top: 1px solid var(--line); padding-top: 22px; margin-top: 26px; }
.segsync-report .ss-charts { display: flex; flex-wrap: wrap; gap: 18px 28px; align-items: flex-start; }
.segsync-report figure { margin: 0; max-width: 100%; overflow-x: auto; }
.segsync-report figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; max-width: 70ch; }
.segsync-report svg { max-width: 100%; height: auto; }
.segsync-report .ss-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; }
.segsync-report .ss-card { background: var(--card); border: 1px solid var(--line); border-top: 5px solid var(--seg, #999); border-radius: 8px; padding: 14px 16px; break-inside: avoid; }
.segsync-report .ss-swatch { width: 12px; height: 12px; border-radius: 3px; background: var(--seg, #999); display: inline-block; flex: none; }
.segsync-report .ss-card p { margin: 0 0 6px; }
.segsync-report .ss-card ul { margin: 0; padding-left: 18px; }
.segsync-report .ss-card li { margin: 2px 0; }
.segsync-report .ss-size strong { font-size: 18px; }
.segsync-report .ss-up { color: #1f5fa8; font-weight: 600; }
.segsync-report .ss-down { color: #b4332e; font-weight: 600; }
.segsync-report table { border-collapse: collapse; font-size: 14px; margin: 6px 0 10px; }
.segsync-report th, .segsync-report td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: left; }
.segsync-report .num { text-align: right; font-variant-numeric: tabular-nums; }
.segsync-report thead th { color: var(--muted); font-weight: 600; font-size: 13px; vertical-align: bottom; }
.segsync-report td.ss-stay { font-weight: 600; }
.segsync-report tr.ss-chosen td { background: #fdf1f0; font-weight: 600; }
.segsync-report .ss-empty { background: var(--bg); border-radius: 8px; padding: 14px 16px; color: var(--muted); }
.segsync-report footer { margin-top: 36px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--line); padding-top: 12px; }
@media print { .segsync-report { max-width: none; padding: 0; } .segsync-report nav { display: none; } .segsync-report .ss-section { break-inside: avoid-page; } }
`;
