"""One split, the same models fitted by `implicit` and by Curio on exactly that split, one
table: model, fit seconds, NDCG@10, recall@10.

- `--protocol stratified` (MovieLens-100k): per user a seeded 75/25 split; the same
  hyper-parameters on both sides.
- `--protocol leave-last-out` (a `user item` file in time order, such as Amazon Video
  Games as preprocessed for SASRec): each user's last line is held out, the lines before
  it train (written in file order, which Curio reads as time order); each library with
  its own defaults, plus Curio's session-kNN (SASRec takes minutes: `curio eval --models sasrec`).

Metrics follow Curio's definitions (src/metrics.rs): full ranking over the items a user
did not see in training, every held-out item relevant, binary-gain NDCG with the ideal
over min(relevant, k), averaged over users with held-out items.
"""

import argparse
import json
import subprocess
import time

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from implicit.bpr import BayesianPersonalizedRanking
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

K = 10
SEED = 42

# The same hyper-parameters on both sides.
ALS = dict(factors=16, regularization=20.0, alpha=1.0, iterations=15)
BPR = dict(factors=64, learning_rate=0.05, regularization=0.01, iterations=30)
KNN = dict(K=100)


def split(path, work):
    """Per user: shuffle with a seeded generator, the first round(0.75 n) train."""
    rows = np.loadtxt(path, dtype=np.int64, usecols=(0, 1))
    rng = np.random.default_rng(SEED)
    train, test = [], []
    for user in np.unique(rows[:, 0]):
        items = rows[rows[:, 0] == user, 1].copy()
        rng.shuffle(items)
        n_train = max(1, int(round(len(items) * 0.75)))
        train += [(user, i) for i in items[:n_train]]
        test += [(user, i) for i in items[n_train:]]
    for name, pairs in (("train", train), ("test", test)):
        with open(f"{work}/{name}.tsv", "w") as f:
            f.writelines(f"{u}\t{i}\n" for u, i in pairs)
    return train, test


def split_last(path, work):
    """Per user, in file order: the last item is held out (users with two or more)."""
    rows = np.loadtxt(path, dtype=np.int64, usecols=(0, 1))
    by_user = {}
    for user, item in rows:
        by_user.setdefault(int(user), []).append(int(item))
    train, test = [], []
    for user, items in by_user.items():
        if len(items) >= 2:
            test.append((user, items[-1]))
            items = items[:-1]
        train += [(user, i) for i in items]
    for name, pairs in (("train", train), ("test", test)):
        with open(f"{work}/{name}.tsv", "w") as f:
            f.writelines(f"{u}\t{i}\n" for u, i in pairs)
    return train, test


def metrics(recommended, test_by_user):
    ndcg, recall = [], []
    for user, relevant in test_by_user.items():
        ranked = recommended[user][:K]
        gains = [1.0 / np.log2(r + 2) for r, item in enumerate(ranked) if item in relevant]
        ideal = sum(1.0 / np.log2(r + 2) for r in range(min(len(relevant), K)))
        ndcg.append(sum(gains) / ideal)
        recall.append(len(gains) / len(relevant))
    return float(np.mean(ndcg)), float(np.mean(recall))


def run_implicit(name, model, matrix, users, test_by_user, threads):
    start = time.perf_counter()
    model.fit(matrix, show_progress=False)
    fit = time.perf_counter() - start
    ids, _ = model.recommend(users, matrix[users], N=K, filter_already_liked_items=True)
    recommended = {u: list(row) for u, row in zip(users, ids)}
    return (f"implicit {name}", fit) + metrics(recommended, test_by_user)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--curio", required=True)
    parser.add_argument("--protocol", choices=["stratified", "leave-last-out"], default="stratified")
    args = parser.parse_args()
    last = args.protocol == "leave-last-out"

    train, test = (split_last if last else split)(args.data, args.work)
    user_ids = {u: n for n, u in enumerate(sorted({u for u, _ in train}))}
    item_ids = {i: n for n, i in enumerate(sorted({i for _, i in train} | {i for _, i in test}))}
    rows = [user_ids[u] for u, _ in train]
    cols = [item_ids[i] for _, i in train]
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                           shape=(len(user_ids), len(item_ids)))
    test_by_user = {}
    for u, i in test:
        test_by_user.setdefault(user_ids[u], set()).add(item_ids[i])
    users = np.array(sorted(test_by_user))

    if last:
        # Each library's defaults; ALS with 128 factors (better than its default 100 here).
        peers = [
            ("als", AlternatingLeastSquares(factors=128, num_threads=args.threads, random_state=SEED,
                                            calculate_training_loss=False)),
            ("bpr", BayesianPersonalizedRanking(num_threads=args.threads, random_state=SEED)),
            ("item-knn", CosineRecommender(K=100, num_threads=args.threads)),
            ("bm25 item-knn", BM25Recommender(K=100, num_threads=args.threads)),
        ]
        sets = []
        models = "popularity,item-knn,session-knn,als,bpr"
    else:
        peers = [
            ("als", AlternatingLeastSquares(**ALS, num_threads=args.threads, random_state=SEED,
                                            calculate_training_loss=False)),
            ("bpr", BayesianPersonalizedRanking(**BPR, num_threads=args.threads, random_state=SEED)),
            ("item-knn", CosineRecommender(**KNN, num_threads=args.threads)),
        ]
        sets = [
            f"als.factors={ALS['factors']}", f"als.regularization={ALS['regularization']}",
            f"als.alpha={ALS['alpha']}", f"als.iterations={ALS['iterations']}",
            f"bpr.factors={BPR['factors']}", f"bpr.learning_rate={BPR['learning_rate']}",
            f"bpr.regularization={BPR['regularization']}", f"bpr.epochs={BPR['iterations']}",
            f"item-knn.neighbours={KNN['K']}", "item-knn.shrinkage=0",
        ]
        models = "als,bpr,item-knn,ease"
    results = [run_implicit(name, model, matrix, users, test_by_user, args.threads)
               for name, model in peers]

    out = f"{args.work}/curio.json"
    command = [args.curio, "eval", "--train", f"{args.work}/train.tsv", "--test", f"{args.work}/test.tsv",
               "--k", str(K), "--models", models, "--json", out]
    for s in sets:
        command += ["--set", s]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        for row in json.load(f)["rows"]:
            results.append((f"curio {row['model']}", row["fit_seconds"], row["metrics"]["ndcg"],
                            row["metrics"]["recall"]))

    if last:
        print(f"{args.data}, leave-last-out (file order is time order), k={K}, {args.threads} threads")
    else:
        print(f"MovieLens-100k, stratified 0.75 split (seed {SEED}), k={K}, {args.threads} threads")
    print(f"{'model':<20} {'fit s':>8} {'NDCG@10':>9} {'recall@10':>10}")
    for name, fit, ndcg, recall in results:
        print(f"{name:<20} {fit:>8.3f} {ndcg:>9.4f} {recall:>10.4f}")


if __name__ == "__main__":
    main()
