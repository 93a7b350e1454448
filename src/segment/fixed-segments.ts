/**
 * The two segments no clustering produces: customers without a won purchase
 * (not clustered at all) and DBSCAN's noise. Their ids are fixed so CRM lists
 * keep them across retrains.
 */
import type { NewSegment } from '../store/models-repo.js';

export const NO_PURCHASE_SEGMENT = { id: 'seg_no_purchases', name: 'No purchases yet' } as const;
/** DBSCAN's noise: customers unlike any dense group. */
export const OUTLIER_SEGMENT = { id: 'seg_outliers', name: 'Outliers' } as const;

export function fixedSegment(which: 'noPurchase' | 'outliers', size: number, total: number): NewSegment {
  const share = total ? size / total : 0;
  const pctText = `${size} customers (${(share * 100).toFixed(1)}%)`;
  const s = which === 'noPurchase' ? NO_PURCHASE_SEGMENT : OUTLIER_SEGMENT;
  return {
    id: s.id,
    name: s.name,
    description: which === 'noPurchase' ? `${pctText} with no won purchase yet; not clustered` : `${pctText} unlike any dense group (DBSCAN noise)`,
    profile: { size, share, revenueShare: 0, means: {}, z: {}, fixed: true },
  };
}
