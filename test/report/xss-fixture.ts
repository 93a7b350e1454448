/** A store whose only model has segments with a hostile name and description. */
import { openTestStore, tempDir } from '../support/store-fixture.js';
import type { Store } from '../../src/store/index.js';

export async function fixture(evil: string): Promise<Store> {
  const store = openTestStore(tempDir());
  store.models.saveModel(
    {
      runId: 1,
      createdAt: '2026-07-01T00:00:00.000Z',
      algorithm: 'kmeans',
      params: { k: 2 },
      featureSpec: { preset: 'none', asOf: '2026-06-30', columns: ['visits'], transforms: ['none'], properties: ['visits'] },
      scaler: { transforms: ['none'], medians: [0], mean: [0], std: [1] },
      centroids: {},
      metrics: { silhouette: 0.5, churn: null },
      candidates: [{ algorithm: evil, k: 2, silhouette: 0.5, daviesBouldin: 1, calinskiHarabasz: 10, minShare: 0.5, eligible: true, chosen: true }],
    },
    [
      { id: 'seg_1', name: evil, description: evil, profile: { size: 1, share: 0.5, revenueShare: 0.5, means: { visits: 1 }, z: { visits: 1 } } },
      { id: 'seg_2', name: 'Other', description: 'plain', profile: { size: 1, share: 0.5, revenueShare: 0.5, means: { visits: 0 }, z: { visits: -1 } } },
    ],
    [],
  );
  return store;
}
