"""scikit-learn side of bench/ml-vs-sklearn.ts: times the same kernels on the
same data file and prints one JSON line of wall times (seconds) and results.

    python3 bench/sklearn_ref.py DIR N D

DIR holds what the TypeScript side wrote: data.f64 (N x D float64, row-major,
little-endian), truth.i32 (blob of each row), init.f64 (k-means starting
centroids, 8 x D) and params.json (sizes and DBSCAN eps). Labels found here
are written back (sk-*.i32) so the TypeScript side can compare partitions.
Exits 3 when scikit-learn is not importable; the bench then reports our side
only.
"""
import json
import sys
import time

try:
    import numpy as np
    import sklearn
    from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score
except ImportError:
    sys.exit(3)


def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - t0, time.process_time() - c0), out


def main():
    folder, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(f"{folder}/params.json") as f:
        p = json.load(f)
    repeat = int(p.get("repeat", 1))
    X = np.fromfile(f"{folder}/data.f64", dtype="<f8").reshape(n, d)
    truth = np.fromfile(f"{folder}/truth.i32", dtype="<i4")
    init = np.fromfile(f"{folder}/init.f64", dtype="<f8").reshape(-1, d)
    k = init.shape[0]
    out = {"sklearn": sklearn.__version__, "numpy": np.__version__}

    def best(fn):
        """Wall seconds (fastest run) with that run's CPU seconds, all threads."""
        runs = [timed(fn) for _ in range(repeat)]
        (wall, cpu), _ = min(runs, key=lambda r: r[0][0])
        return (wall, cpu), runs[-1][1]

    # Lloyd: scikit-learn's default in 1.2; tol=0 runs to max_iter unless labels stop changing.
    km = KMeans(n_clusters=k, init=init, n_init=1, max_iter=p["kmeansIter"], tol=0, algorithm="lloyd")
    t, m = best(lambda: km.fit(X))
    out["kmeans"] = {"s": t[0], "cpu": t[1], "iterations": int(m.n_iter_), "inertia": float(m.inertia_), "algorithm": "lloyd"}
    m.labels_.astype("<i4").tofile(f"{folder}/sk-kmeans.i32")

    t, m = best(lambda: PCA(n_components=2).fit(X))
    out["pca"] = {"s": t[0], "cpu": t[1], "ratio": [float(v) for v in m.explained_variance_ratio_], "solver": m._fit_svd_solver}

    ns = p["silhouetteRows"]
    t, v = best(lambda: silhouette_score(X[:ns], truth[:ns]))
    out["silhouette"] = {"s": t[0], "cpu": t[1], "value": float(v)}

    nw = p["wardRows"]
    t, m = best(lambda: AgglomerativeClustering(n_clusters=k, linkage="ward").fit(X[:nw]))
    out["ward"] = {"s": t[0], "cpu": t[1]}
    m.labels_.astype("<i4").tofile(f"{folder}/sk-ward.i32")

    nd = p["dbscanRows"]
    t, m = best(lambda: DBSCAN(eps=p["dbscanEps"], min_samples=p["dbscanMinPts"]).fit(X[:nd]))
    labels = m.labels_
    out["dbscan"] = {"s": t[0], "cpu": t[1], "clusters": int(labels.max() + 1), "noise": int((labels < 0).sum())}
    labels.astype("<i4").tofile(f"{folder}/sk-dbscan.i32")

    print(json.dumps(out))


main()
