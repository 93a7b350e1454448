/** One colour per segment, the same in every chart and card. */

// Tableau 10 without its grey, then Tableau 20's lighter tones
const COLORS = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f',
  '#a0cbe8', '#ffbe7d', '#ff9d9a', '#86bcb6', '#8cd17d', '#f1ce63', '#d4a6c8', '#fabfd2', '#d7b5a6',
];
export const FIXED_COLOR = '#9d9d9d';

/** The colour of the i-th clustered segment (colours repeat past 18). */
export function segmentColor(i: number): string {
  return COLORS[i % COLORS.length] as string;
}
