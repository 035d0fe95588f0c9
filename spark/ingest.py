# The PySpark ingestion job: MNIST's IDX files, extra IDX digit sets and the correction records of feedback/ →
# one new versioned Parquet dataset (partitioned by source) + manifest.json, then an atomic `current` pointer.
# Runs unchanged under `npm run ingest:spark` (tools/ingest-spark.mjs, local[*]) and a plain `spark-submit` on a
# cluster (hdfs://, s3a:// paths): every driver-side file access goes through Hadoop's FileSystem API, every input is
# read by a Spark reader (binaryFile: one file per record, hence < 2 GB per file) and parsed on the executors.
# It is not a second preprocessing: feedback images arrive already preprocessed; they are validated and quantised.
# Layout, schema, split and dedup rules: docs/data.md ("Spark ingestion").

import argparse
import gzip
import hashlib
import json
import math
import os
import re
import socket
import struct
import sys
import time
from datetime import datetime, timezone

FORMAT = 'doodle-digits-dataset'
FEEDBACK_FORMAT = 'doodle-digits-feedback'
PIXELS = 784
MNIST_FILES = {
    'mnist-train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 'train'),
    'mnist-test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'test'),
}
MAX_FEEDBACK_BYTES = 4 << 20   # a real record is ~20 KB; anything near this is not one (untrusted input)
BROADCAST_DUPLICATES = 1_000_000  # duplicate keys up to this many are broadcast (~40 MB)
STALE_SECONDS = 24 * 3600      # an incomplete version without a live local lease is removed after this long
VERSION_RE = re.compile(r'^v(\d{8}T\d{6}Z)-[0-9a-f]{8}$')
SOURCE_RE = re.compile(r'^[a-z0-9][a-z0-9-]{0,62}$')
INGEST_ERROR = 'IngestInputError'


class IngestInputError(Exception):
    """Bad input found on an executor; the driver prints only this message (see `explain`)."""


# ---------------------------------------------------------------------------------------------- executor side
# Pure functions of bytes, shipped to the executors by cloudpickle. A parsed row is the output schema plus `rank`
# (source order, for dedup) and `reason` (None, or why the record is dropped as invalid).

def split_by_hash(ident):
    """The split of a row of a non-MNIST source: validation iff the id's first 8 hex digits mod 5 == 0 (20%)."""
    return 'validation' if int(ident[:8], 16) % 5 == 0 else 'train'


def row_id(image, label):
    return hashlib.sha256(bytes(image) + bytes((label,))).hexdigest()


def idx_header(data, name, magic, ndims):
    if len(data) >= 2 and data[0] == 0x1f and data[1] == 0x8b:
        data = gzip.decompress(data)  # a .gz IDX file is accepted as is (detected by its magic, like npm run data)
    head = 4 + 4 * ndims
    if len(data) < head:
        raise IngestInputError(f'{name}: {len(data)} bytes is shorter than an IDX header')
    found = struct.unpack('>I', data[:4])[0]
    if found != magic:
        raise IngestInputError(f'{name}: magic 0x{found:08x}, expected 0x{magic:08x}')
    dims = struct.unpack(f'>{ndims}I', data[4:head])
    return data, head, dims


def parse_idx(source, rank, fixed_split, files):
    """(images, labels) of one source → rows. Checks magic, dims (N×28×28 and N), exact lengths, labels 0..9."""
    by_role = dict(files)
    if set(by_role) != {'images', 'labels'}:
        raise IngestInputError(f'{source}: expected an images and a labels file, got {sorted(by_role)}')
    (img_name, img_data), (lab_name, lab_data) = by_role['images'], by_role['labels']
    images, ih, (n, rows, cols) = idx_header(img_data, img_name, 0x00000803, 3)
    labels, lh, (m,) = idx_header(lab_data, lab_name, 0x00000801, 1)
    if (rows, cols) != (28, 28):
        raise IngestInputError(f'{img_name}: images are {rows}x{cols}, expected 28x28')
    if len(images) != ih + n * PIXELS:
        raise IngestInputError(f'{img_name}: {len(images)} bytes, the header says {ih + n * PIXELS} ({n} images)')
    if len(labels) != lh + m:
        raise IngestInputError(f'{lab_name}: {len(labels)} bytes, the header says {lh + m} ({m} labels)')
    if n != m:
        raise IngestInputError(f'{source}: {n} images but {m} labels')
    for i in range(n):
        label = labels[lh + i]
        if label > 9:
            raise IngestInputError(f'{lab_name}: label {label} at index {i} is out of range 0..9')
        image = bytes(images[ih + i * PIXELS: ih + (i + 1) * PIXELS])
        ident = row_id(image, label)
        yield (source, rank, i, ident, label, image, fixed_split or split_by_hash(ident), None, None, None)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_feedback(content):
    """One feedback file's bytes → (label, image bytes, created_at, origin) or a drop reason (str)."""
    if len(content) > MAX_FEEDBACK_BYTES:
        return 'too_large'
    try:
        doc = json.loads(bytes(content).decode('utf-8'))  # Python's json accepts NaN/Infinity: checked below
    except (UnicodeDecodeError, ValueError, RecursionError):
        return 'malformed_json'
    if not isinstance(doc, dict):
        return 'malformed_json'
    if doc.get('format') != FEEDBACK_FORMAT or doc.get('version') != 1:
        return 'wrong_format'
    origin = doc.get('id')
    if not isinstance(origin, str) or not origin:
        return 'wrong_format'
    label = doc.get('label')
    if not is_number(label) or label != int(label) or not 0 <= label <= 9:
        return 'bad_label'
    values = doc.get('image')
    if not isinstance(values, list) or len(values) != PIXELS:
        return 'bad_image_length'
    if not all(is_number(v) for v in values):
        return 'image_not_number'  # null, strings ("NaN"), booleans, nested lists
    if not all(math.isfinite(v) for v in values):
        return 'image_not_finite'
    if not all(0 <= v <= 1 for v in values):
        return 'image_out_of_range'
    try:
        created = datetime.fromisoformat(str(doc.get('createdAt')).replace('Z', '+00:00'))
    except ValueError:
        return 'bad_created_at'
    if created.tzinfo is None:
        return 'bad_created_at'
    # Quantisation: byte = round(255·v), halves up (floor(255·v + 0.5)); exact for values written as b/255 with
    # 6 decimals, since 255·5e-7 < 0.5. v ∈ [0, 1] keeps the byte in 0..255.
    image = bytes(math.floor(255 * v + 0.5) for v in values)
    return int(label), image, created.astimezone(timezone.utc), origin


PARSED = (('source', 'string'), ('rank', 'int32'), ('index', 'int64'), ('id', 'string'), ('label', 'int8'),
          ('image', 'binary'), ('split', 'string'), ('created_at', 'timestamp'), ('origin', 'string'),
          ('reason', 'string'))


def to_arrow(rows):
    """Parsed row tuples → a pyarrow Table of PARSED (Arrow carries the images to the JVM without pickling)."""
    import pyarrow as pa
    types = {'string': pa.string(), 'int32': pa.int32(), 'int64': pa.int64(), 'int8': pa.int8(),
             'binary': pa.binary(), 'timestamp': pa.timestamp('us', tz='UTC')}
    columns = list(zip(*rows)) if rows else [()] * len(PARSED)
    return pa.table({name: pa.array(col, type=types[kind]) for (name, kind), col in zip(PARSED, columns)})


def idx_cogroup(images, labels):
    """One source's images file and labels file (a cogroup by source: one row each) → its rows, as Arrow."""
    files = []
    for role, table in (('images', images), ('labels', labels)):
        for r in table.to_pylist():
            files.append((role, (r['path'].rsplit('/', 1)[-1], r['content'])))
    if not files:
        return to_arrow([])
    first = (images if images.num_rows else labels).to_pylist()[0]
    return to_arrow(list(parse_idx(first['source'], first['rank'], first['split'], files)))


def parse_feedback(rank, indices, item):
    name, content = item
    index = indices[name]
    checked = check_feedback(content)
    if isinstance(checked, str):
        return ('feedback', rank, index, None, None, None, None, None, None, checked)
    label, image, created, origin = checked
    ident = row_id(image, label)
    return ('feedback', rank, index, ident, label, image, split_by_hash(ident), created, origin, None)


# ---------------------------------------------------------------------------------------------- driver side

class Store:
    """The driver's file access: Hadoop's FileSystem API through py4j, so hdfs://, s3a:// and file:// all work."""

    def __init__(self, spark):
        self.jvm = spark._jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()

    def path(self, p):
        return self.jvm.org.apache.hadoop.fs.Path(p)

    def fs(self, p):
        fs = self.path(p).getFileSystem(self.conf)
        if str(fs.getUri().getScheme()) == 'file':
            # The raw local file system: no .crc side files (a pointer renamed over `current` would leave a stale
            # one that fails later reads), and rename(2), which replaces an existing target atomically.
            return self.jvm.org.apache.hadoop.fs.FileSystem.getLocal(self.conf).getRawFileSystem()
        return fs

    def qualify(self, p):
        """Relative paths resolve against the working directory of the default file system (file: locally)."""
        return str(self.fs(p).makeQualified(self.path(p)).toString())

    def exists(self, p):
        return self.fs(p).exists(self.path(p))

    def is_dir(self, p):
        return self.exists(p) and self.fs(p).getFileStatus(self.path(p)).isDirectory()

    def is_file(self, p):
        return self.exists(p) and self.fs(p).getFileStatus(self.path(p)).isFile()

    def list(self, p):
        """Names in folder p (sorted), with whether each is a folder."""
        return sorted((str(s.getPath().getName()), bool(s.isDirectory())) for s in self.fs(p).listStatus(self.path(p)))

    def mkdirs(self, p):
        self.fs(p).mkdirs(self.path(p))

    def read(self, p):
        stream = self.fs(p).open(self.path(p))
        try:
            # py4j cannot fill a Python buffer through read(byte[]): commons-io (on Spark's classpath) returns one.
            return bytes(self.jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def write(self, p, data):
        stream = self.fs(p).create(self.path(p), True)
        try:
            stream.write(bytearray(data))
            stream.hsync()
        finally:
            stream.close()

    def write_atomic(self, p, data):
        """Readers see the old content or the new, never a part. Object stores (s3a:, gs:, abfs:) make an object
        visible only when its single PUT completes, so a plain write is atomic there; file systems with atomic
        rename (file:, hdfs:) get a temp file renamed over the target (FileContext rename with OVERWRITE)."""
        scheme = str(self.path(p).toUri().getScheme() or self.qualify(p).split(':')[0])
        if scheme in ('s3a', 's3', 'gs', 'abfs', 'abfss', 'wasb', 'wasbs', 'oss', 'cos'):
            self.write(p, data)
            return
        fs = self.fs(p)
        target = fs.makeQualified(self.path(p))
        tmp = self.path(f'{target.getParent().toString()}/.{target.getName()}.{os.getpid()}.{os.urandom(4).hex()}.tmp')
        self.write(tmp.toString(), data)
        try:
            if scheme == 'file':
                # The raw local file system renames with rename(2), which replaces an existing target atomically.
                if not fs.rename(tmp, target):
                    raise IOError(f'cannot rename {tmp.toString()} to {target.toString()}')
            else:
                hadoop_fs = self.jvm.org.apache.hadoop.fs
                rename = getattr(hadoop_fs, 'Options$Rename')  # py4j names a nested class Outer$Inner
                overwrite = java_array(rename, [rename.OVERWRITE])  # the varargs Options.Rename... as a Java array
                hadoop_fs.FileContext.getFileContext(target.toUri(), self.conf).rename(tmp, target, overwrite)
        except Exception:
            self.delete(tmp.toString())
            raise

    def delete(self, p):
        fs = self.fs(p)
        if fs.exists(self.path(p)):
            fs.delete(self.path(p), True)


def java_array(cls, items):
    from pyspark import SparkContext
    arr = SparkContext._gateway.new_array(cls, len(items))
    for i, item in enumerate(items):
        arr[i] = item
    return arr


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='ingest.py', description='Ingest MNIST (+ extra IDX sources + feedback) into a versioned Parquet dataset.')
    p.add_argument('--mnist', default='mnist', help='folder of the four raw MNIST IDX files (default: mnist)')
    p.add_argument('--out', default='data/parquet', help='dataset root: versions + current (default: data/parquet)')
    p.add_argument('--feedback', default=None,
                   help='folder of feedback/*.json records (default: feedback, skipped if it does not exist)')
    p.add_argument('--idx', action='append', default=[], metavar='NAME=IMAGES,LABELS',
                   help='an extra IDX source (repeatable); its rows are split by hash')
    p.add_argument('--keep', type=int, default=5, help='complete versions kept besides current (default: 5)')
    args = p.parse_args(argv)
    if args.keep < 1:
        p.error(f'--keep must be at least 1, got {args.keep}')
    extra = []
    for spec in args.idx:
        name, eq, files = spec.partition('=')
        parts = files.split(',')
        if not eq or len(parts) != 2 or not all(parts):
            p.error(f'--idx {spec!r}: expected NAME=IMAGES,LABELS')
        if not SOURCE_RE.match(name) or name in MNIST_FILES or name == 'feedback' or name in (e[0] for e in extra):
            p.error(f'--idx {spec!r}: the name must be new, lowercase [a-z0-9-] (not mnist-train, mnist-test, feedback)')
        extra.append((name, parts[0], parts[1]))
    args.extra = extra
    return args


def explain(err):
    """The one-line message of a failure: an executor's IngestInputError, or the first line of anything else."""
    text = str(err)
    found = re.search(INGEST_ERROR + r': ([^\n]*)', text)
    if found:
        return found.group(1)
    return next((line.strip() for line in text.splitlines() if line.strip()), type(err).__name__)


def utc_stamp(t):
    return datetime.fromtimestamp(t, timezone.utc)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Job:
    def __init__(self, spark, args):
        self.spark = spark
        self.args = args
        self.store = Store(spark)
        self.started = time.time()
        self.phases = []  # (name, seconds): printed in the summary, read by the ingest bench

    def phase(self, name):
        now = time.time()
        self.phases.append((name, now - getattr(self, '_mark', self.started)))
        self._mark = now

    # -- inputs
    def resolve_inputs(self):
        st, a = self.store, self.args
        mnist = st.qualify(a.mnist)
        if not st.is_dir(mnist):
            raise IngestInputError(f'{a.mnist}: no such folder (the MNIST IDX files; run `npm run data`)')
        sources = []  # (name, images, labels, fixed split)
        for name, (images, labels, split) in MNIST_FILES.items():
            sources.append((name, f'{mnist}/{images}', f'{mnist}/{labels}', split))
        for name, images, labels in a.extra:
            sources.append((name, st.qualify(images), st.qualify(labels), None))
        for _, images, labels, _ in sources:
            for f in (images, labels):
                if not st.is_file(f):
                    raise IngestInputError(f'{f}: no such file')
        feedback = None
        if a.feedback is not None or st.is_dir(st.qualify('feedback')):
            feedback = st.qualify(a.feedback or 'feedback')
            if not st.is_dir(feedback):
                raise IngestInputError(f'{a.feedback}: no such folder (the feedback records)')
        self.sources, self.feedback = sources, feedback

    def read_binary(self, path):
        return self.spark.read.format('binaryFile').load(path)

    def build(self):
        """The parsed rows of every source (valid and invalid), as a DataFrame, plus the input descriptions."""
        from pyspark.sql import functions as F
        from pyspark.sql import types as T
        spark = self.spark
        parts, inputs = [], {}
        for rank, (name, images, labels, split) in enumerate(self.sources):
            for role, path in (('images', images), ('labels', labels)):
                parts.append(self.read_binary(path).select(
                    F.lit(rank).alias('rank'), F.lit(name).alias('source'), F.lit(split).alias('split'),
                    F.lit(role).alias('role'), 'path', 'length', 'content'))
        idx = parts[0]
        for df in parts[1:]:
            idx = idx.unionByName(df)
        # The manifest's inputs: size and SHA-256 of every input file, hashed on the executors (JVM, no Python).
        for r in idx.select('source', 'role', 'path', 'length', F.sha2('content', 256).alias('sha256')).collect():
            inputs.setdefault(r.source, {'files': []})['files'].append(
                {'role': r.role, 'path': r.path, 'bytes': r.length, 'sha256': r.sha256})

        # Images and labels of a source meet in one task (a cogroup by source), then fan out into rows.
        by_source = [idx.filter(F.col('role') == role).drop('role', 'length').groupBy('source') for role in
                     ('images', 'labels')]
        parsed = by_source[0].cogroup(by_source[1]).applyInArrow(idx_cogroup, self.parsed_schema())
        if self.feedback is not None:
            st = self.store
            # Indices: position in the name-sorted listing of *.json files (invalid ones included), so stable.
            names = [n for n, is_dir in st.list(self.feedback) if not is_dir and n.endswith('.json')
                     and not n.startswith(('.', '_'))]
            if names:
                indices = spark.sparkContext.broadcast({n: i for i, n in enumerate(names)})
                rank = len(self.sources)
                fb = (spark.read.format('binaryFile').load([f'{self.feedback}/{n}' for n in names])
                      .select(F.element_at(F.split('path', '/'), -1).alias('name'), 'content', 'length'))
                digests = sorted((r.name, r.sha256, r.length) for r in
                                 fb.select('name', 'length', F.sha2('content', 256).alias('sha256')).collect())
                listing = ''.join(f'{n}\t{s}\n' for n, s, _ in digests).encode()
                inputs['feedback'] = {'path': self.feedback, 'files': len(digests),
                                      'bytes': sum(b for _, _, b in digests),
                                      'sha256': hashlib.sha256(listing).hexdigest(),
                                      'digest_of': 'sorted lines "<name>\\t<sha256>\\n"'}
                def feedback_batches(batches):
                    for batch in batches:
                        names, contents = batch.column('name').to_pylist(), batch.column('content').to_pylist()
                        yield from to_arrow([parse_feedback(rank, indices.value, item)
                                             for item in zip(names, contents)]).to_batches()

                parsed = parsed.unionByName(fb.select('name', 'content').mapInArrow(feedback_batches,
                                                                                   self.parsed_schema()))
            else:
                inputs['feedback'] = {'path': self.feedback, 'files': 0, 'bytes': 0,
                                      'sha256': hashlib.sha256(b'').hexdigest(),
                                      'digest_of': 'sorted lines "<name>\\t<sha256>\\n"'}
        self.inputs = inputs
        return parsed

    def parsed_schema(self):
        from pyspark.sql import types as T
        kinds = {'string': T.StringType(), 'int32': T.IntegerType(), 'int64': T.LongType(), 'int8': T.ByteType(),
                 'binary': T.BinaryType(), 'timestamp': T.TimestampType()}
        return T.StructType([T.StructField(name, kinds[kind], True) for name, kind in PARSED])

    def duplicates(self, valid):
        """Dedup by id: the first row by (source order, index) stays, the others are duplicates. Ranked on a narrow
        projection (no images), so only ids move through the shuffle; returns the (source, index) of duplicates."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F
        first = Window.partitionBy('id').orderBy('rank', 'index')
        return (valid.select('id', 'rank', 'source', 'index').withColumn('n', F.row_number().over(first))
                .filter(F.col('n') > 1).select('source', 'index'))

    # -- output
    def output_schema_fields(self):
        from pyspark.sql import types as T
        return T.StructType([
            T.StructField('id', T.StringType(), False), T.StructField('index', T.LongType(), False),
            T.StructField('label', T.ByteType(), False), T.StructField('image', T.BinaryType(), False),
            T.StructField('split', T.StringType(), False), T.StructField('created_at', T.TimestampType(), True),
            T.StructField('origin', T.StringType(), True)])

    def run(self):
        from pyspark import StorageLevel
        from pyspark.sql import functions as F
        spark, st, a = self.spark, self.store, self.args
        self.resolve_inputs()
        out = st.qualify(a.out)
        st.mkdirs(out)
        self.phase('resolve')
        stamp = datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')
        version = f'v{stamp}-{os.urandom(4).hex()}'
        vdir = f'{out}/{version}'
        lease = f'{out}/.leases/{version}'
        # The lease says who writes this version, so a later run can tell a killed run's leftovers (same host, dead
        # pid) from a concurrent run's folder in progress (see prune).
        st.write(lease, json.dumps({'host': socket.gethostname(), 'pid': os.getpid(), 'started': stamp}).encode())
        self.version, self.vdir, self.out = version, vdir, out
        try:
            parsed = self.build().persist(StorageLevel.MEMORY_AND_DISK)
            valid = parsed.filter(F.col('reason').isNull())
            dups = self.duplicates(valid).persist(StorageLevel.MEMORY_AND_DISK)
            n_dups = dups.count()
            self.phase('inputs')
            # Few duplicates are the rule: broadcast them into an anti-join that leaves the images where they are.
            kept = valid.join(F.broadcast(dups) if n_dups <= BROADCAST_DUPLICATES else dups, ['source', 'index'],
                              'left_anti').select(*[f.name for f in self.output_schema_fields().fields], 'source')
            # errorifexists: a version folder is written once, never overwritten (Spark's overwrite mode deletes the
            # old data first). Rows sorted by index within each file; readers order by (source, index) themselves.
            kept.sortWithinPartitions('source', 'index').write.mode('errorifexists').partitionBy('source').parquet(vdir)
            self.phase('write')
            invalid = {}
            for r in parsed.filter(F.col('reason').isNotNull()).groupBy('source', 'reason').count().collect():
                invalid.setdefault(r.source, {})[r.reason] = r['count']
            duplicate = {r.source: r['count'] for r in dups.groupBy('source').count().collect()}
            self.phase('dropped')
            manifest = self.manifest(version, vdir, {'duplicate': duplicate, 'invalid': invalid})
            parsed.unpersist()
            dups.unpersist()
            st.write_atomic(f'{vdir}/manifest.json', (json.dumps(manifest, indent=2) + '\n').encode())
            st.write_atomic(f'{out}/current', f'{version}\n'.encode())
        except BaseException:
            st.delete(vdir)
            st.delete(lease)
            raise
        st.delete(lease)
        self.phase('commit')
        try:
            pruned = self.prune(out, version)
        except Exception as err:  # noqa: BLE001 — the dataset is committed; a later run prunes again
            print(f'warning: pruning {out} failed: {explain(err)}', file=sys.stderr)
            pruned = []
        self.phase('prune')
        return manifest, pruned

    def manifest(self, version, vdir, dropped):
        from pyspark.sql import functions as F
        spark, st = self.spark, self.store
        # Counted back from the Parquet just written: the manifest describes what is on disk.
        written = spark.read.parquet(vdir)
        by_source = {}
        total = 0
        for r in written.groupBy('source', 'split', 'label').count().collect():
            by_source.setdefault(r.source, {}).setdefault(r.split, {})[str(r.label)] = r['count']
            total += r['count']
        for splits in by_source.values():
            for split, labels in splits.items():
                splits[split] = {str(d): labels.get(str(d), 0) for d in range(10)}
        self.phase('rows')
        digest = hashlib.sha256()
        for r in written.select('id').orderBy('id').toLocalIterator():
            digest.update(r.id.encode() + b'\n')
        self.phase('digest')
        parts = (spark.read.format('binaryFile').option('recursiveFileLookup', 'true')
                 .option('pathGlobFilter', '*.parquet').load(vdir)
                 .select('path', 'length', F.sha2('content', 256).alias('sha256')).collect())
        prefix = st.qualify(vdir) + '/'
        files = sorted(({'path': st.qualify(r.path)[len(prefix):], 'bytes': r.length, 'sha256': r.sha256}
                        for r in parts), key=lambda f: f['path'])
        self.phase('checksums')
        fields = self.output_schema_fields().jsonValue()
        fields['partition_columns'] = [{'name': 'source', 'type': 'string', 'nullable': False, 'metadata': {}}]
        return {
            'format': FORMAT, 'version': 1, 'dataset': version,
            'created_at': datetime.now(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z'),
            'spark': {'version': spark.version, 'master': spark.sparkContext.master},
            'inputs': self.inputs,
            'schema': fields,
            'rows': {'total': total, 'by_source': by_source},
            'dropped': dropped,
            'files': files,
            'content_digest': digest.hexdigest(),
            'content_digest_of': 'sha256 over the ascending ids, each followed by "\\n"',
            'split_rule': {'mnist-train': 'train', 'mnist-test': 'test',
                           'other': 'validation iff int(id[:8], 16) % 5 == 0, else train'},
        }

    def prune(self, out, version):
        """Keep the newest --keep complete versions and whatever `current` names; remove incomplete versions whose
        writer is gone: a lease of this host with a dead pid, or older than STALE_SECONDS (another host's run)."""
        st = self.store
        current = st.read(f'{out}/current').decode().strip() if st.is_file(f'{out}/current') else version
        versions = [n for n, is_dir in st.list(out) if is_dir and VERSION_RE.match(n)]
        leases = {n for n, _ in st.list(f'{out}/.leases')} if st.is_dir(f'{out}/.leases') else set()
        complete = [v for v in versions if st.is_file(f'{out}/{v}/manifest.json')]
        keep = set(sorted(complete)[-self.args.keep:]) | {current, version}
        pruned = []
        for v in versions:
            if v in keep:
                continue
            if v in complete:
                st.delete(f'{out}/{v}')
                pruned.append((v, 'old'))
                continue
            if self.writer_gone(out, v, v in leases):
                st.delete(f'{out}/{v}')
                st.delete(f'{out}/.leases/{v}')
                pruned.append((v, 'incomplete'))
        for v in leases - set(versions):  # a lease whose run died before its folder appeared
            if self.writer_gone(out, v, True):
                st.delete(f'{out}/.leases/{v}')
        return pruned

    def writer_gone(self, out, v, has_lease):
        m = VERSION_RE.match(v)
        age = time.time() - datetime.strptime(m.group(1), '%Y%m%dT%H%M%SZ').replace(tzinfo=timezone.utc).timestamp() \
            if m else STALE_SECONDS + 1
        if has_lease:
            try:
                lease = json.loads(self.store.read(f'{out}/.leases/{v}'))
                if lease.get('host') == socket.gethostname() and isinstance(lease.get('pid'), int):
                    return not pid_alive(lease['pid'])
            except ValueError:
                pass
        return age > STALE_SECONDS


def summary(manifest, out, pruned, seconds, phases):
    lines = [f"dataset {manifest['dataset']} → {out}/{manifest['dataset']} (now current)",
             f"  {'source':<16}{'split':<12}{'rows':>9}"]
    for source, splits in sorted(manifest['rows']['by_source'].items()):
        for split, labels in sorted(splits.items()):
            lines.append(f'  {source:<16}{split:<12}{sum(labels.values()):>9}')
    lines.append(f"  {'total':<28}{manifest['rows']['total']:>9}")
    dropped = manifest['dropped']
    parts = [f'{s}: {n} duplicate' for s, n in sorted(dropped['duplicate'].items())]
    for source, reasons in sorted(dropped['invalid'].items()):
        parts += [f'{source}: {n} {reason}' for reason, n in sorted(reasons.items())]
    lines.append('dropped: ' + (', '.join(parts) if parts else 'none'))
    if pruned:
        lines.append('pruned: ' + ', '.join(f'{v} ({why})' for v, why in pruned))
    lines.append(f'content digest {manifest["content_digest"]}')
    lines.append(f'{seconds:.1f} s (' + ', '.join(f'{name} {t:.1f}' for name, t in phases) + ')')
    return '\n'.join(lines)


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.appName('doodle-digits-ingest')
             # Fixed by the dataset format, whatever spark-submit says: INT64 microseconds (no INT96), UTC, snappy.
             .config('spark.sql.parquet.outputTimestampType', 'TIMESTAMP_MICROS')
             .config('spark.sql.session.timeZone', 'UTC')
             .config('spark.sql.parquet.compression.codec', 'snappy')
             .getOrCreate())
    spark.sparkContext.setLogLevel('WARN')
    job = Job(spark, args)
    try:
        manifest, pruned = job.run()
    except Exception as err:  # noqa: BLE001 — one line for the user; the trace is Spark's log
        print(f'error: {explain(err)}', file=sys.stderr)
        spark.stop()
        return 1
    print(summary(manifest, job.out, pruned, time.time() - job.started, job.phases))
    spark.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
