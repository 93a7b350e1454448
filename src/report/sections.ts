/**
 * The report's sections as HTML fragments: charts rendered to inline SVG,
 * cards and tables, written for a reader who has never heard of k-means.
 * Every piece of data in the markup goes through `esc`.
 */
import type { ReportData, ReportSection, ReportSegment, SegmentPush } from './types.js';
import { amount, direction, esc, fixed, int, pct, when } from './format.js';
import { renderSvg } from './render.js';
import { segmentMapSpec } from './charts/segment-map.js';
import { heatmapSpec } from './charts/heatmap.js';
import { revenueSpec, sizesSpec } from './charts/sizes.js';
import { METRICS, modelSelectionSpec } from './charts/model-selection.js';
import { dendrogramSpec } from './charts/dendrogram.js';
import { qualitySpec } from './charts/quality.js';

const section = (id: string, title: string, html: string): ReportSection => ({ id, title, html });
const intro = (text: string): string => `<p class="ss-intro">${text}</p>`;
const empty = (text: string): string => `<p class="ss-empty">${text}</p>`;
const figure = (svg: string, caption: string): string => `<figure>${svg}<figcaption>${caption}</figcaption></figure>`;

export async function buildSections(data: ReportData): Promise<ReportSection[]> {
  return [
    await overviewSection(data),
    cardsSection(data),
    await mapSection(data),
    await heatmapSection(data),
    movesSection(data),
    await modelSection(data),
    await qualitySection(data),
  ];
}

async function overviewSection(d: ReportData): Promise<ReportSection> {
  const title = 'Segments at a glance';
  if (!d.model || d.segments.length === 0) return section('overview', title, empty(esc(d.notes[0] ?? 'No segments yet.')));
  const sizes = await renderSvg(sizesSpec(d.segments), 'sizes', 'Customers per segment (bar chart)');
  const revenue = await renderSvg(revenueSpec(d.segments), 'revenue', 'Share of revenue per segment (bar chart)');
  const top = [...d.segments].sort((a, b) => b.revenueShare - a.revenueShare)[0] as ReportSegment;
  const html =
    intro(
      `How many customers each segment holds, and how much of the revenue they bring. ` +
        `<strong>${esc(top.label)}</strong> brings ${pct(top.revenueShare)} of the revenue with ${pct(top.share)} of the customers.`,
    ) +
    `<div class="ss-charts">${figure(sizes, 'Customers in each segment, and their share of all customers.')}` +
    `${figure(revenue, 'Share of the revenue (won deals and orders) each segment brings.')}</div>`;
  return section('overview', title, html);
}

function pushLine(p: SegmentPush): string {
  const what = p.listName ? `${esc(p.kind)} “${esc(p.listName)}”` : esc(p.kind);
  const id = p.listId && p.listId !== p.listName ? ` (id ${esc(p.listId)})` : '';
  const delta = `${int(p.adds)} added, ${int(p.removes)} removed`;
  const failed = p.lastPushFailed ? ` — ${int(p.lastPushFailed)} records failed, see \`segsync push --dry-run\`` : '';
  let last: string;
  if (!p.lastPushedAt) last = 'not pushed yet';
  else if (p.changedInLastPush) last = `last push ${esc(when(p.lastPushedAt))}: ${delta}${failed}`;
  else if (p.lastChangedAt) last = `last push ${esc(when(p.lastPushedAt))} (no change)${failed}; last changed ${esc(when(p.lastChangedAt))}: ${delta}`;
  else last = `last push ${esc(when(p.lastPushedAt))} (no change)${failed}`;
  return `<li>${what}${id} on <strong>${esc(p.target)}</strong>: ${last}</li>`;
}

export function segmentCard(s: ReportSegment): string {
  const apart = s.distinctions.length
    ? `<h4>What sets them apart</h4><ul>${s.distinctions
        .map(
          (x) =>
            `<li><strong>${esc(x.label)}</strong>: ${esc(amount(x.mean))} on average vs ${esc(amount(x.overall))} for all customers ` +
            `<span class="${x.z >= 0 ? 'ss-up' : 'ss-down'}">${esc(direction(x.z))}</span></li>`,
        )
        .join('')}</ul>`
    : s.fixed
      ? '<h4>What sets them apart</h4><p>A fixed segment, set aside from clustering: its customers are not compared feature by feature.</p>'
      : '';
  const pushes = s.pushes.length ? `<ul>${s.pushes.map(pushLine).join('')}</ul>` : '<p>Not pushed to any CRM list or campaign yet.</p>';
  return (
    `<article class="ss-card" data-segment="${esc(s.id)}" style="--seg: ${esc(s.color)}">` +
    `<h3><span class="ss-swatch"></span>${esc(s.label)}</h3>` +
    `<p class="ss-size"><strong>${int(s.size)}</strong> customers · ${pct(s.share)} of all · ${pct(s.revenueShare)} of revenue</p>` +
    `<p class="ss-desc">${esc(s.description)}</p>${apart}<h4>Pushed to</h4>${pushes}</article>`
  );
}

function cardsSection(d: ReportData): ReportSection {
  const title = 'The segments';
  if (d.segments.length === 0) return section('segments', title, empty('No segments yet.'));
  return section(
    'segments',
    title,
    intro('One card per segment: who is in it, what sets these customers apart from the average customer, and where segsync sends the segment in your CRMs.') +
      `<div class="ss-cards">${d.segments.map(segmentCard).join('')}</div>`,
  );
}

async function mapSection(d: ReportData): Promise<ReportSection> {
  const title = 'Segment map';
  const map = d.map;
  if (!map || map.points.length === 0) {
    const why = d.notes.find((n) => n.startsWith('The segment map')) ?? 'No clustered customers to draw.';
    return section('map', title, empty(esc(why)));
  }
  const svg = await renderSvg(segmentMapSpec(map, d.segments), 'segment-map', `Segment map: ${map.points.length} customers coloured by segment`);
  const shown = map.points.length < map.population ? `a random sample of ${int(map.points.length)} of the ${int(map.population)} clustered customers` : `all ${int(map.population)} clustered customers`;
  const fixedSegs = d.segments.filter((s) => s.fixed);
  const html =
    intro(
      `Each dot is a customer (${shown}). Customers who buy alike sit close together, so a segment that forms its own island is clearly different from the rest; ` +
        `overlapping clouds are segments with a blurry border. The two axes summarize all features at once and keep ${pct(map.axes[0].explained + map.axes[1].explained, 0)} of the differences between customers. ` +
        `The solid line around each segment holds its densest half, the dashed line 90% of it.`,
    ) +
    figure(
      svg,
      `Principal component analysis of the scaled features; sample seed ${esc(map.seed)}.` +
        (fixedSegs.length ? ` Not drawn (set aside from clustering): ${fixedSegs.map((s) => `${esc(s.label)} (${int(s.size)})`).join(', ')}.` : ''),
    );
  return section('map', title, html);
}

async function heatmapSection(d: ReportData): Promise<ReportSection> {
  const title = 'What sets each segment apart';
  const clustered = d.segments.filter((s) => !s.fixed);
  if (clustered.length === 0 || d.features.length === 0) return section('profiles', title, empty('No segment profiles yet.'));
  const svg = await renderSvg(heatmapSpec(d.segments, d.features), 'heatmap', 'Heat map of segments by features');
  return section(
    'profiles',
    title,
    intro(
      'Each row is a segment, each column a feature. Blue means the segment is above the average customer, red below; the number is the difference in standard deviations ' +
        '(about ±0.5 is a clear difference, ±1 or more a strong one). Point at a cell to see the averages.',
    ) + figure(svg, 'Standardized mean difference between each segment and all clustered customers.'),
  );
}

function movesSection(d: ReportData): ReportSection {
  const title = 'Changes since the previous model';
  const mv = d.moves;
  if (!mv) return section('moves', title, empty('This is the first model: there is nothing to compare with yet.'));
  const cell = new Map(mv.rows.map((r) => [`${r.from}\u0000${r.to}`, r.count]));
  const rowTotal = new Map<string, number>();
  for (const r of mv.rows) rowTotal.set(r.from, (rowTotal.get(r.from) ?? 0) + r.count);
  const head = `<thead><tr><th>previous segment ↓ / now →</th>${mv.toLabels.map((t) => `<th class="num">${esc(t)}</th>`).join('')}<th class="num">total</th></tr></thead>`;
  const body = mv.fromLabels
    .map((f) => {
      const total = rowTotal.get(f) ?? 0;
      const tds = mv.toLabels
        .map((t) => {
          const n = cell.get(`${f}\u0000${t}`) ?? 0;
          const share = total ? n / total : 0;
          const bg = n && f !== t ? ` style="background: rgba(214, 39, 40, ${(0.08 + share * 0.5).toFixed(2)})"` : '';
          return `<td class="num${f === t ? ' ss-stay' : ''}"${bg} title="${esc(`${f} → ${t}: ${int(n)} customers (${pct(share)} of ${f})`)}">${n ? int(n) : '·'}</td>`;
        })
        .join('');
      return `<tr><th scope="row">${esc(f)}</th>${tds}<td class="num">${int(total)}</td></tr>`;
    })
    .join('');
  const flows = mv.rows
    .filter((r) => r.from !== r.to)
    .sort((a, b) => b.count - a.count)
    .slice(0, 5)
    .map((r) => `<li>${esc(r.from)} → ${esc(r.to)}: <strong>${int(r.count)}</strong> customers</li>`)
    .join('');
  const churn = mv.churn ?? (mv.both ? mv.moved / mv.both : 0);
  const html =
    intro(
      `Compared with model #${esc(mv.previousModelId)} (${esc(when(mv.previousCreatedAt))}): <strong>${pct(churn)}</strong> of the customers in both models changed segment ` +
        `(${int(mv.moved)} of ${int(mv.both)}). ${int(mv.entered)} customers are new since then and ${int(mv.left)} are gone. ` +
        'Rows are the previous segments, columns the current ones; the diagonal (bold) stayed put.',
    ) +
    `<div class="ss-charts"><figure><table class="ss-moves">${head}<tbody>${body}</tbody></table>` +
    `<figcaption>Customers present in both models, by previous and current segment. When churn passes <code>push.maxChurn</code>, the next push waits for approval.</figcaption></figure>` +
    (flows ? `<div><h4>Largest moves</h4><ul>${flows}</ul></div>` : '') +
    '</div>';
  return section('moves', title, html);
}

async function modelSection(d: ReportData): Promise<ReportSection> {
  const title = 'How the number of segments was chosen';
  const m = d.model;
  if (!m) return section('model', title, empty('No model yet.'));
  let html = intro(
    `The chosen model is <strong>${esc(m.algorithm)}</strong> with <strong>${esc(m.k ?? '?')}</strong> segments (model #${esc(m.id)}, ${esc(when(m.createdAt))}). ` +
      'segsync tried each algorithm with each number of segments (k) and scored every candidate with three standard indices: silhouette and Calinski–Harabasz (higher is better) ' +
      'and Davies–Bouldin (lower is better). Real customers rarely fall into crisp groups, so it does not simply take the top score: candidates with a too-small ' +
      'segment (or an unstable result) are set aside (faded) and it prefers the largest k that is nearly as good as the best. The chosen model is ringed in red.',
  );
  if (d.candidates.length) {
    const svg = await renderSvg(modelSelectionSpec(d.candidates), 'model-selection', 'Model selection indices by number of segments');
    const withStability = d.candidates.some((c) => c.stability !== null);
    const rows = d.candidates
      .map(
        (c) =>
          `<tr${c.chosen ? ' class="ss-chosen"' : ''}><td>${esc(c.algorithm)}</td><td class="num">${c.k}</td>${METRICS.map((x) => `<td class="num">${fixed(c[x.key], x.digits)}</td>`).join('')}` +
          `<td class="num">${c.minShare === null ? '–' : pct(c.minShare)}</td>${withStability ? `<td class="num">${fixed(c.stability, 2)}</td>` : ''}` +
          `<td>${c.chosen ? 'chosen' : c.eligible ? '' : 'set aside'}</td></tr>`,
      )
      .join('');
    html +=
      figure(svg, 'Each index for each candidate; the ring marks the chosen model.') +
      `<table class="ss-candidates"><thead><tr><th>algorithm</th><th class="num">k</th>${METRICS.map((x) => `<th class="num">${esc(x.title)}</th>`).join('')}<th class="num">smallest segment</th>${withStability ? '<th class="num">stability</th>' : ''}<th></th></tr></thead><tbody>${rows}</tbody></table>`;
  } else html += empty('The model has no comparison table (it was fitted with a fixed number of segments).');
  const treeNote = d.notes.find((n) => n.startsWith('The merge tree'));
  if (treeNote) html += `<p class="ss-note">${esc(treeNote)}</p>`;
  if (d.dendrogram) {
    const t = d.dendrogram;
    const svg = await renderSvg(dendrogramSpec(t, d.segments), 'dendrogram', `Dendrogram of the hierarchical model, cut at ${t.k} segments`);
    html +=
      `<h3>Merge tree</h3>` +
      figure(
        svg,
        `Hierarchical clustering${t.linkage ? ` (${esc(t.linkage)} linkage)` : ''} joins the most similar groups first; the higher a join, the more different the groups. ` +
          `Cutting the tree at the dashed line gives the ${t.k} segments. The tree was built on ${int(t.treeLeaves)} customers; ` +
          (t.leaves.length < t.treeLeaves ? `only its last ${t.leaves.length - 1} joins are drawn, and the numbers under the leaves count the customers each holds.` : 'the numbers under the leaves count the customers each holds.'),
      );
  }
  return section('model', title, html);
}

async function qualitySection(d: ReportData): Promise<ReportSection> {
  const title = 'Data quality';
  const q = d.quality;
  const last = q.lastSync;
  let html = intro(
    'A record that cannot be used (a malformed email, an impossible date, an amount that is not a number...) is set aside — quarantined — with its reason, and the rest syncs. ' +
      (last
        ? `The latest sync (run #${esc(last.runId)}, ${esc(when(last.at))}) read ${int(last.read)} records and quarantined ${int(last.quarantined)} (${pct(last.read ? last.quarantined / last.read : 0, 2)}). `
        : 'Nothing has been synced yet. ') +
      '<code>segsync status</code> lists the first quarantined records with their file and line.',
  );
  if (last && last.streams.length) {
    const rows = last.streams
      .map((s) => `<tr><td>${esc(s.connector)}</td><td>${esc(s.stream)}</td><td class="num">${int(s.read)}</td><td class="num">${int(s.quarantined)}</td><td class="num">${pct(s.read ? s.quarantined / s.read : 0, 2)}</td></tr>`)
      .join('');
    html += `<table class="ss-streams"><thead><tr><th>connector</th><th>stream</th><th class="num">read</th><th class="num">quarantined</th><th class="num">share</th></tr></thead><tbody>${rows}</tbody></table>`;
  }
  if (q.groups.length) {
    const svg = await renderSvg(qualitySpec(q.groups), 'quality', 'Quarantined records by reason and connector');
    const rows = q.groups.map((g) => `<tr><td>${esc(g.reason)}</td><td>${esc(g.connector)}</td><td>${esc(g.stream)}</td><td class="num">${int(g.count)}</td></tr>`).join('');
    html +=
      `<div class="ss-charts">${figure(svg, `All ${int(q.quarantined)} records in quarantine (set aside by a sync and neither stored nor deleted in their source since), by reason, coloured by connector and stream.`)}` +
      `<table class="ss-quarantine"><thead><tr><th>reason</th><th>connector</th><th>stream</th><th class="num">records</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  } else html += empty('No record was quarantined.');
  const missing = Object.entries(q.missing).filter(([, n]) => n > 0);
  if (missing.length) {
    html += `<p class="ss-note">Values missing when the model was trained (filled with the median): ${missing.map(([f, n]) => `${esc(f)} ${int(n)}`).join(', ')}.</p>`;
  }
  return section('quality', title, html);
}
