"""The explorer's web server: a read-only Starlette app over one run directory.

Routes (all GET; nothing writes to the run):

``/``                      the page (``static/index.html``)
``/static/<file>``         the page's JS and CSS
``/api/meta``              models, classes, variants, sortable columns, embedding kinds
``/api/page``              one page of the filtered, sorted gallery (JSON) + its sprite URL
``/api/sprite/<key>.png``  the page's thumbnails as one sprite sheet (10 per row)
``/api/sample``            every column of one sample (probabilities, scores, morphometrics)
``/api/image/<variant>/<sample_id>.png``  one image (regenerated like the run made it)
``/api/embedding``         the 2-D embedding points of a model
``/files/<path>``          any file inside the run (never outside: 404)

Queries go through DuckDB over the run's Parquet files (:class:`RunTables`); sprite sheets are
PNG-encoded once per page and kept in an LRU cache, so scrolling 70,000 samples costs one
small image request per 100 thumbnails.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.report.tables import RunTables, class_names_of, json_scalar, models_of
from mnistlab.run import CLEAN, RunLayout, check_run, clean_images, parse_variant
from mnistlab.workflows.variants import variant_images

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["LRU", "STATIC", "Explorer", "create_app", "sprite_sheet"]

STATIC = Path(__file__).resolve().parent / "static"
SPRITE_COLUMNS = 10
MAX_PAGE_SIZE = 500
MAX_EMBEDDING_POINTS = 20000
_N = TypeVar("_N", int, float)


class LRU:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def sprite_sheet(images: NDArray[np.uint8], columns: int = SPRITE_COLUMNS) -> bytes:
    """Tile ``images`` (N, H, W) row-major into one greyscale PNG ``columns`` wide.

    Examples
    --------
    >>> import numpy as np
    >>> png = sprite_sheet(np.zeros((12, 28, 28), np.uint8))
    >>> png[:4]
    b'\\x89PNG'
    """
    from PIL import Image

    n, h, w = images.shape
    rows = max(1, math.ceil(n / columns))
    sheet = np.zeros((rows * columns, h, w), np.uint8)
    sheet[:n] = images
    tiled = sheet.reshape(rows, columns, h, w).transpose(0, 2, 1, 3).reshape(rows * h, columns * w)
    buf = io.BytesIO()
    # compress_level 1: a page's sheet is ~20-40 kB either way; level 1 encodes ~5x faster.
    Image.fromarray(tiled, mode="L").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


class Explorer:
    """The explorer's state over one run: tables per model, caches, safe file access."""

    def __init__(self, run_dir: str | os.PathLike[str], sprite_cache: int = 512) -> None:
        self.root = Path(run_dir).resolve()
        if not self.root.is_dir():
            raise MnistlabError(f"{run_dir}: no such run directory")
        if RunLayout(self.root).manifest.is_file():
            check_run(self.root)
        self.models = models_of(self.root)
        if not self.models:
            raise MnistlabError(
                f"{run_dir}: no predictions table under preds/ (run mnistlab study)"
            )
        self._tables: dict[str, RunTables] = {}
        self._lock = threading.Lock()
        self.sprites = LRU(sprite_cache)
        self.pages = LRU(sprite_cache * 4)
        self.counts = LRU(256)
        self.answers = LRU(1024)
        try:
            self.clean = np.asarray(clean_images(self.root))
        except (ValueError, OSError, EOFError) as exc:
            if isinstance(exc, MnistlabError):
                raise
            path = RunLayout(self.root).test_images
            raise MnistlabError(f"{path}: unreadable ({exc})") from None
        first = self.tables(self.models[0])
        self.variants = [
            r[0]
            for r in first.rows(
                "SELECT variant FROM samples GROUP BY variant "
                "ORDER BY min(corruption), min(severity)"
            )
        ]
        n_classes = len(first.prob_columns) or 10
        self.class_names = class_names_of(self.root, n_classes)

    def warm(self) -> threading.Thread:
        """Regenerate one image of each corruption in the background.

        The first call of a corruption pays its imports and JIT compilation (seconds for some);
        doing it at start keeps that cost off the first gallery pages.
        """

        def run() -> None:
            one = np.zeros(1, np.int64)
            for variant in self.variants:
                with contextlib.suppress(MnistlabError):
                    self.images(variant, one)

        thread = threading.Thread(target=run, name="mnistlab-explorer-warm", daemon=True)
        thread.start()
        return thread

    def tables(self, model: str | None) -> RunTables:
        name = model or self.models[0]
        if name not in self.models:
            raise MnistlabError(f"unknown model {name!r} (choose from: {', '.join(self.models)})")
        with self._lock:
            if name not in self._tables:
                self._tables[name] = RunTables(self.root, name, materialize=True)
            return self._tables[name]

    def close(self) -> None:
        for t in self._tables.values():
            t.close()

    # -- files -----------------------------------------------------------------------------------

    def run_file(self, relative: str) -> Path | None:
        """The file ``relative`` inside the run, or None for anything outside it or missing."""
        if not relative or "\x00" in relative or "\\" in relative:
            return None
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts:
            return None
        try:
            full = (self.root / pure).resolve()
            # resolve() follows symlinks, so a link pointing outside the run is refused too.
            if not full.is_relative_to(self.root) or not full.is_file():
                return None
        except (OSError, ValueError, RuntimeError):  # too long, a symlink loop, ...
            return None
        return full

    # -- images ----------------------------------------------------------------------------------

    def images(self, variant: str, ids: NDArray[np.int64]) -> NDArray[np.uint8]:
        if variant == CLEAN:
            return self.clean[ids]
        return variant_images(self.root, variant, ids)

    def page_images(self, items: list[tuple[str, int]]) -> NDArray[np.uint8]:
        out = np.zeros((len(items), *self.clean.shape[1:]), np.uint8)
        by_variant: dict[str, list[int]] = {}
        for pos, (variant, _) in enumerate(items):
            by_variant.setdefault(variant, []).append(pos)
        for variant, positions in by_variant.items():
            ids = np.asarray([items[p][1] for p in positions], np.int64)
            out[positions] = self.images(variant, ids)
        return out

    def sprite(self, key: str) -> bytes | None:
        cached = self.sprites.get(key)
        if cached is not None:
            return bytes(cached)
        items = self.pages.get(key)
        if items is None:
            return None
        png = sprite_sheet(self.page_images(items))
        self.sprites.put(key, png)
        return png

    # -- queries ---------------------------------------------------------------------------------

    def where(self, t: RunTables, q: dict[str, str]) -> tuple[str, list[Any]]:
        """SQL condition and parameters for the gallery filters in query ``q``."""
        cond: list[str] = ["TRUE"]
        params: list[Any] = []
        for key, column in (("label", "label"), ("pred", "pred"), ("severity", "severity")):
            if q.get(key, "") != "":
                cond.append(f"{column} = ?")
                params.append(_int(q[key], key))
        if q.get("correct", "") != "":
            flag = q["correct"].lower()
            if flag not in ("1", "0", "true", "false"):
                raise MnistlabError(f"correct must be 1 or 0, got {q['correct']!r}")
            cond.append("correct = ?")
            params.append(flag in ("1", "true"))
        if q.get("corruption", "") != "":
            cond.append("corruption = ?")
            params.append(q["corruption"])
        if q.get("variant", "") != "":
            cond.append("variant = ?")
            params.append(q["variant"])
        score = q.get("score", "")
        if score:
            col = _column(t, score)
            for bound, op in (("min", ">="), ("max", "<=")):
                if q.get(bound, "") != "":
                    cond.append(f'"{col}" {op} ?')
                    params.append(_float(q[bound], bound))
        kind = q.get("emb", "")
        if kind:
            if kind not in t.embedding_kinds():
                raise MnistlabError(
                    f"unknown embedding {kind!r} (choose from: {', '.join(t.embedding_kinds())})"
                )
            x0, x1, y0, y1 = (_float(q.get(k, ""), k) for k in ("x0", "x1", "y0", "y1"))
            cond.append(f"{kind}_0 BETWEEN ? AND ? AND {kind}_1 BETWEEN ? AND ?")
            params += [min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)]
        return " AND ".join(cond), params

    def page(self, q: dict[str, str]) -> dict[str, Any]:
        """One page of the gallery: items with their sprite positions, total count, sprite URL."""
        t = self.tables(q.get("model") or None)
        page = _int(q.get("page", "0") or "0", "page")
        size = _int(q.get("size", "100") or "100", "size")
        if page < 0 or not 1 <= size <= MAX_PAGE_SIZE:
            raise MnistlabError(
                f"page must be >= 0 and size in 1..{MAX_PAGE_SIZE}, got {page}, {size}"
            )
        sort = q.get("sort", "") or "sample_id"
        sort_col = _column(t, sort)
        order = (q.get("order", "") or "desc").lower()
        if order not in ("asc", "desc"):
            raise MnistlabError(f"order must be asc or desc, got {order!r}")
        cond, params = self.where(t, q)
        answer_key = (t.model, cond, tuple(params), sort_col, order, page, size)
        cached = self.answers.get(answer_key)
        if cached is not None:
            return dict(cached)
        count_key = (t.model, cond, tuple(params))
        total = self.counts.get(count_key)
        if total is None:
            total = int(t.rows(f"SELECT count(*) FROM samples WHERE {cond}", params)[0][0])
            self.counts.put(count_key, total)
        rows = t.rows(
            f'SELECT variant, sample_id, label, pred, correct, "{sort_col}" FROM samples '
            f'WHERE {cond} ORDER BY "{sort_col}" {order.upper()} NULLS LAST, sample_id, variant '
            "LIMIT ? OFFSET ?",
            [*params, size, page * size],
        )
        items = [(str(r[0]), int(r[1])) for r in rows]
        h, w = self.clean.shape[1:]
        key = hashlib.sha1(json.dumps(items).encode()).hexdigest()[:20]
        if items:
            self.pages.put(key, items)
        answer = {
            "model": t.model,
            "total": total,
            "page": page,
            "size": size,
            "sort": sort_col,
            "order": order,
            "sprite": f"/api/sprite/{key}.png" if items else None,
            "thumb": [w, h],
            "columns": SPRITE_COLUMNS,
            "items": [
                {
                    "variant": r[0],
                    "sample_id": int(r[1]),
                    "label": int(r[2]),
                    "pred": int(r[3]),
                    "correct": bool(r[4]),
                    "value": json_scalar(r[5]),
                    "sx": (i % SPRITE_COLUMNS) * w,
                    "sy": (i // SPRITE_COLUMNS) * h,
                }
                for i, r in enumerate(rows)
            ],
        }
        self.answers.put(answer_key, answer)
        return dict(answer)

    def meta(self, model: str | None) -> dict[str, Any]:
        t = self.tables(model)
        corruptions = sorted({parse_variant(v)[0] for v in self.variants})
        return {
            "run": self.root.name,
            "models": self.models,
            "model": t.model,
            "classes": self.class_names,
            "variants": self.variants,
            "corruptions": corruptions,
            "severities": sorted({parse_variant(v)[1] for v in self.variants}),
            "sortable": t.sortable,
            "scores": t.score_columns,
            "morpho": t.columns.morpho,
            "hardness": t.hardness_column(),
            "embeddings": t.embedding_kinds(),
            "total": int(t.rows("SELECT count(*) FROM samples")[0][0]),
        }

    def sample(self, q: dict[str, str]) -> dict[str, Any] | None:
        t = self.tables(q.get("model") or None)
        variant = q.get("variant", "")
        sid = _int(q.get("sample_id", ""), "sample_id")
        frame = t.query("SELECT * FROM samples WHERE variant = ? AND sample_id = ?", [variant, sid])
        if frame.empty:
            return None
        row = {k: json_scalar(v) for k, v in frame.iloc[0].to_dict().items()}
        return {
            "model": t.model,
            "variant": variant,
            "sample_id": sid,
            "label": int(row["label"]),
            "pred": int(row["pred"]),
            "correct": bool(row["correct"]),
            "corruption": row.get("corruption"),
            "severity": row.get("severity"),
            "probs": [row[c] for c in t.prob_columns],
            "scores": {c: row[c] for c in t.score_columns},
            "morpho": {c: row[c] for c in t.columns.morpho},
            "embedding": {c: row[c] for c in t.columns.embedding},
            "image": f"/api/image/{variant}/{sid}.png",
            "clean": f"/api/image/{CLEAN}/{sid}.png",
        }

    def image_png(self, variant: str, sid: int) -> bytes | None:
        if variant not in self.variants or not 0 <= sid < len(self.clean):
            return None
        from mnistlab.figures.report import array_png

        return array_png(self.images(variant, np.asarray([sid], np.int64))[0])

    def embedding(self, q: dict[str, str]) -> dict[str, Any]:
        t = self.tables(q.get("model") or None)
        kinds = t.embedding_kinds()
        kind = q.get("kind", "") or (kinds[0] if kinds else "")
        if kind not in kinds:
            raise MnistlabError(
                f"unknown embedding {kind!r} (choose from: {', '.join(kinds) or 'none'})"
            )
        hard = t.hardness_column()
        hsel = f', "{hard}"' if hard else ", NULL"
        rows = t.rows(
            f"SELECT sample_id, variant, label, correct, {kind}_0, {kind}_1{hsel} FROM samples "
            f"WHERE {kind}_0 IS NOT NULL AND {kind}_1 IS NOT NULL AND isfinite({kind}_0) "
            f"ORDER BY hash(sample_id, variant) LIMIT {MAX_EMBEDDING_POINTS}"
        )
        return {
            "kind": kind,
            "hardness": hard,
            "sample_id": [int(r[0]) for r in rows],
            "variant": [r[1] for r in rows],
            "label": [int(r[2]) for r in rows],
            "correct": [bool(r[3]) for r in rows],
            "x": [round(float(r[4]), 4) for r in rows],
            "y": [round(float(r[5]), 4) for r in rows],
            "h": [json_scalar(r[6]) for r in rows],
        }


def _column(t: RunTables, name: str) -> str:
    if name not in t.sortable:
        raise MnistlabError(f"unknown column {name!r} (choose from: {', '.join(t.sortable)})")
    return name


def _int(value: str, name: str) -> int:
    v = _number(int, value, name, "an integer", repr(str(value)[:40]))
    if not -(2**31) <= v < 2**31:  # the tables' ids and classes, and LIMIT/OFFSET, stay int32
        raise MnistlabError(f"{name} is out of range, got {str(value)[:40]!r}")
    return v


def _float(value: str, name: str) -> float:
    v = _number(float, value, name, "a number", repr(value))
    if not math.isfinite(v):
        raise MnistlabError(f"{name} must be finite, got {value!r}")
    return v


def _number(kind: Callable[[str], _N], value: str, name: str, what: str, shown: str) -> _N:
    """``kind(value)``, or an error saying that ``name`` must be ``what`` (got ``shown``)."""
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise MnistlabError(f"{name} must be {what}, got {shown}") from None


def create_app(
    run_dir: str | os.PathLike[str], warm: bool = True, port: int | None = None
) -> Starlette:
    """The explorer as an ASGI app (serve it with uvicorn on 127.0.0.1).

    ``warm`` regenerates one image per variant in a background thread at start (see
    :meth:`Explorer.warm`). Requests whose ``Host`` is not ``127.0.0.1``, ``localhost`` or
    ``[::1]`` with the server's ``port`` (default: the port the request came in on) get 421;
    malformed paths get 404; every response carries the headers of
    :data:`mnistlab.app.security.SECURITY_HEADERS` (see :class:`~mnistlab.app.security.Guard`).

    Examples
    --------
    >>> from starlette.testclient import TestClient  # doctest: +SKIP
    >>> app = create_app("runs/fashion-mnist")  # doctest: +SKIP
    >>> client = TestClient(app, base_url="http://127.0.0.1:8765")  # doctest: +SKIP
    >>> client.get("/api/page?sort=entropy").json()["items"][0]  # doctest: +SKIP
    """
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Route

    state = Explorer(run_dir)
    if warm:
        state.warm()
    not_found = Response("not found", status_code=404, media_type="text/plain")

    def guarded(fn: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                return fn(request)
            except MnistlabError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return endpoint

    def query(request: Request) -> dict[str, str]:
        return {k: v for k, v in request.query_params.items()}

    def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if "/" in name or "\\" in name or "\x00" in name:
            return not_found
        try:
            path = (STATIC / name).resolve()
            if not path.is_relative_to(STATIC) or not path.is_file():
                return not_found
        except (OSError, ValueError):
            return not_found
        return FileResponse(path)

    def meta(request: Request) -> Response:
        return JSONResponse(state.meta(request.query_params.get("model") or None))

    def page(request: Request) -> Response:
        return JSONResponse(state.page(query(request)))

    def sprite(request: Request) -> Response:
        png = state.sprite(request.path_params["key"])
        if png is None:
            return not_found
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    def sample(request: Request) -> Response:
        found = state.sample(query(request))
        return not_found if found is None else JSONResponse(found)

    def image(request: Request) -> Response:
        png = state.image_png(
            request.path_params["variant"], _int(request.path_params["sid"], "sample_id")
        )
        if png is None:
            return not_found
        return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    def embedding(request: Request) -> Response:
        return JSONResponse(state.embedding(query(request)))

    def files(request: Request) -> Response:
        path = state.run_file(request.path_params["path"])
        return not_found if path is None else FileResponse(path)

    routes = [
        Route("/", index),
        Route("/static/{name:path}", static),
        Route("/api/meta", guarded(meta)),
        Route("/api/page", guarded(page)),
        Route("/api/sprite/{key}.png", sprite),
        Route("/api/sample", guarded(sample)),
        Route("/api/image/{variant}/{sid}.png", guarded(image)),
        Route("/api/embedding", guarded(embedding)),
        Route("/files/{path:path}", files),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        state.close()

    from mnistlab.app.security import Guard

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.explorer = state
    # Outside Starlette's own error middleware, so even a 500 carries the security headers.
    app.middleware_stack = Guard(app.build_middleware_stack(), port)
    return app
