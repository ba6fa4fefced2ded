// End-to-end check of the web visualizer served by `inkling serve` at GET /.
// Drives Debian's /usr/bin/chromium through playwright-core (no browser
// download), runs a completion and a Compare run, and saves a screenshot. Checks the
// tokenization view (/tokenize, /detokenize), logits in the token detail, the context
// window's fill, the typical-p / logit-bias / min-tokens / ignore-EOS controls and, when
// the server serves two models, Compare across them.
//
//   node visualizer.test.mjs [URL] [SCREENSHOT]   (or INKLING_URL / INKLING_SCREENSHOT)
//
// Plain assertions, exit code 0 on success, 1 on any failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const url = process.argv[2] || process.env.INKLING_URL || 'http://127.0.0.1:18080/';
const shot = process.argv[3] || process.env.INKLING_SCREENSHOT || path.join(os.tmpdir(), 'inkling-visualizer.png');
const RUN_TIMEOUT = 60_000;

let passed = 0, failed = 0, skipped = 0;
function check(cond, what) {
  if (cond) { passed++; console.log(`ok   ${what}`); }
  else { failed++; console.log(`FAIL ${what}`); }
  return cond;
}

// A fresh profile per run so no state (cache, storage) leaks between runs.
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'inkling-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 900 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const consoleErrors = [];
  page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', e => consoleErrors.push(String(e)));

  const resp = await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
  check(resp && resp.ok(), `GET ${url} answers 200`);
  await page.waitForFunction(() => !/…$/.test(document.querySelector('#model').textContent), null, { timeout: 10_000 });
  const modelText = await page.textContent('#model');
  check(/^models?: (?!unavailable|unknown).+/.test(modelText), `header shows the model name (${modelText})`);
  const twoModels = /^models: /.test(modelText);

  // --- tokenization view: the prompt's tokens, from /tokenize, and back via /detokenize ---
  const post = (p, body) => page.evaluate(async ([p, body]) => {
    const r = await fetch(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return r.json();
  }, [p, body]);
  const chipIds = async () => (await page.locator('#tokchips .pid').allTextContents()).map(Number);
  await page.fill('#prompt', 'Once upon a time');
  await page.waitForFunction(() => /Once upon a time/.test(document.querySelector('#detok').textContent), null, { timeout: 10_000 });
  const direct = (await post('/tokenize', { content: 'Once upon a time', add_special: true })).tokens;
  const shownIds = await chipIds();
  check(direct.length >= 3 && JSON.stringify(shownIds) === JSON.stringify(direct),
    `tokenization view shows the prompt's token ids, BOS included (${shownIds.join(' ')})`);
  check((await page.textContent('#tokcount')) === `${direct.length} tokens`, 'tokenization view counts the tokens');
  const chipText = (await page.locator('#tokchips .pt').allTextContents()).join('|');
  check(/Once/.test(chipText) && /time/.test(chipText), `chips show each token's piece (${chipText})`);
  const back = (await post('/detokenize', { tokens: direct })).content;
  check((await page.textContent('#detok')).includes(JSON.stringify(back)), `the view shows /detokenize's text (${JSON.stringify(back)})`);
  await page.fill('#prompt', 'Once upon a time there was');
  await page.waitForFunction(n => document.querySelectorAll('#tokchips .ptok').length > n, direct.length, { timeout: 10_000 });
  check(true, 'typing re-tokenizes the prompt');
  await page.fill('#prompt', '\u65e5\u672c');
  await page.waitForFunction(() => document.querySelectorAll('#tokchips .ptok.bytes').length > 0, null, { timeout: 10_000 });
  check(/<0xE6>/.test(await page.textContent('#tokchips')), 'a character split into byte tokens shows its bytes (<0xE6>...)');

  // Wait for a run to start and then for the page to report it idle again.
  async function runAndWait() {
    await page.click('#run');
    await page.waitForFunction(() => document.body.dataset.state === 'idle' && !document.querySelector('#run').disabled,
      null, { timeout: RUN_TIMEOUT });
  }

  // --- single run ---
  await page.fill('#prompt', 'Once upon a time');
  await runAndWait();
  const err = (await page.textContent('#error')).trim();
  check(err === '', `no error shown${err ? ': ' + err : ''}`);
  const colA = page.locator('.col[data-side="A"]');
  check(await colA.getAttribute('data-state') === 'done', 'column A finished (state done)');
  const toks = colA.locator('.out .tok');
  const nTok = await toks.count();
  check(nTok >= 3, `several .tok spans (${nTok})`);
  const joined = (await toks.allTextContents()).join('');
  check(joined.trim().length > 0, `token text is non-empty (${JSON.stringify(joined.slice(0, 60))}…)`);

  // Click the first token that carries per-step data and inspect the panel.
  await toks.first().click();
  const bars = page.locator('#detail .alt-bar');
  const nBars = await bars.count();
  check(nBars >= 1, `clicking a token shows alternative bars (${nBars})`);
  check(await page.locator('#detail .chosen').count() === 1, 'exactly one alternative is marked .chosen');
  const pctTexts = await page.locator('#detail .alt-bar .pct').allTextContents();
  check(pctTexts.length > 0 && pctTexts.every(t => /%$/.test(t)), `alternatives show percentages (${pctTexts.slice(0, 3).join(' ')})`);
  const clickedText = await toks.first().textContent();
  const chosenLabel = await page.locator('#detail .alt-bar.chosen .lbl').textContent();
  check(chosenLabel.replace(/␣/g, ' ').replace(/↵/g, '\n').replace(/ \*$/, '').length > 0,
    `chosen alternative is labelled (${chosenLabel} for ${JSON.stringify(clickedText)})`);

  // Logits beside the probabilities: the model's and the sampler's, and one per alternative.
  const detail = await page.textContent('#detail');
  check(/model logit-?\d+\.\d\d/.test(detail) && /sampling logit-?\d+\.\d\d/.test(detail),
    'token detail shows the model logit and the sampling logit');
  const logitCells = await page.locator('#detail .alt-bar .logit').allTextContents();
  check(logitCells.length === nBars && logitCells.every(t => /^(-?\d+\.\d\d|−∞)$/.test(t)),
    `each alternative shows its logit (${logitCells.slice(0, 3).join(' ')})`);
  const rawBars = await page.locator('#detail .alt-bar').evaluateAll(rows => rows.map(r => [r.querySelector('.pct').textContent, Number(r.querySelector('.logit').textContent)]));
  const rawSorted = rawBars.slice(-3).every((r, i, a) => i === 0 || a[i - 1][1] >= r[1] - 1e-6);
  check(rawSorted, 'the model distribution is ordered by logit as by probability');

  const metrics = (await page.textContent('#metrics')) || '';
  check(/[\d.]+ tok\/s/.test(metrics), 'metrics panel shows tokens/s');
  // Context window: prompt + generated out of n_ctx (4096 in this test's server).
  const fill = /context: (\d+) prompt \+ (\d+) generated = (\d+) \/ 4096/.exec(metrics);
  const genMetric = +(/(\d+)generated/.exec(metrics) || [0, -1])[1];
  check(fill && +fill[1] + +fill[2] === +fill[3] && +fill[1] === direct.length && +fill[2] === genMetric && genMetric > 0,
    `context fill shows prompt + generated / n_ctx (${fill && fill[0]})`);
  check(/prefix reuse saved \d+ of \d+ prompt tokens/.test(metrics), 'context fill says what prefix reuse saved');
  const genWidth = await page.locator('#metrics .ctxbar .gen').evaluate(e => e.getBoundingClientRect().width);
  check(genWidth > 0, `the context bar shows the generated part (${genWidth.toFixed(1)} px)`);
  check(/time to first token/.test(metrics) && /prompt tokens/.test(metrics), 'metrics panel shows TTFT and prompt tokens');
  check(await page.locator('#metrics svg.sparkline').count() === 1, 'entropy sparkline exists');
  check(await page.locator('#metrics svg.sparkline polyline').count() >= 1, 'sparkline has a line');

  // --- stop string: held-back text must not leak, the rest must be intact ---
  // Same seed and settings, with a stop string made of two consecutive tokens
  // of the run above: the first is held back as a possible stop prefix, then
  // the second completes the match. The page must show exactly the text before
  // the stop string's first occurrence.
  const pieces = await toks.allTextContents();
  let k = Math.min(4, pieces.length - 2);
  while (k < pieces.length - 2 && (pieces[k] + pieces[k + 1]).trim() === '') k++;
  const stop = pieces[k] + pieces[k + 1];
  const expected = joined.slice(0, joined.indexOf(stop));
  await colA.locator('input[name="stop"]').fill(JSON.stringify([stop]));
  await runAndWait();
  const stopped = (await toks.allTextContents()).join('');
  check(stopped === expected, `stop string ${JSON.stringify(stop)}: text ends right before it (${stopped.length} chars)`);
  check(/done \(stop\)/.test(await colA.locator('.state').textContent()), 'finish reason stop is shown');
  const reuse = /prefix reuse saved (\d+) of (\d+)/.exec(await page.textContent('#metrics'));
  check(reuse && +reuse[1] > 0, `the same prompt again reuses the cached prefix (${reuse && reuse[0]})`);
  const held = await colA.locator('.out .held').count();
  console.log(`     (${held} held-back token(s) shown struck through)`);
  await colA.locator('input[name="stop"]').fill('');

  // --- Stop: aborting the fetch must end the run and cancel it server-side ---
  // Ask for more tokens than the context holds and press Stop at the first
  // token. A tiny model may still finish first; then the check is reported as
  // skipped rather than failed, since nothing was left to cancel.
  const health = async () => page.evaluate(async () => (await fetch('/health')).json());
  const before = await health();
  const maxTok = colA.locator('input[name="max_tokens"]');
  const keepMax = await maxTok.inputValue();
  await maxTok.fill('100000');
  // Press Stop from inside the page the moment the first token is rendered: a
  // round trip through the test driver can be slower than a tiny model.
  await page.evaluate(() => {
    const out = document.querySelector('.col[data-side="A"] .out');
    const obs = new MutationObserver(() => {
      if (out.querySelector('.tok')) { obs.disconnect(); document.querySelector('#stop').click(); }
    });
    obs.observe(out, { childList: true });
  });
  await page.click('#run');
  await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: RUN_TIMEOUT });
  const stateAfterStop = await colA.getAttribute('data-state');
  if (stateAfterStop === 'stopped') {
    check(true, 'Stop ends the run in the page (state stopped)');
    let cancelled = false;
    for (let i = 0; i < 50 && !cancelled; i++) {
      const h = await health();
      cancelled = typeof h.cancelled === 'number' ? h.cancelled > before.cancelled : true;
      if (!cancelled) await page.waitForTimeout(100);
    }
    check(cancelled, 'the server counts the request as cancelled (/health)');
  } else {
    skipped++;
    console.log(`skip Stop check: the model finished before Stop landed (state ${stateAfterStop})`);
  }
  await maxTok.fill(keepMax);

  // Every completion request the page sends, to check that a control reaches the server.
  const bodies = [];
  page.on('request', r => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/completions') {
      try { bodies.push(JSON.parse(r.postData())); } catch (_) { bodies.push(null); }
    }
  });
  const lastBody = () => bodies[bodies.length - 1] || {};
  const field = name => colA.locator(`[name="${name}"]`);
  const textA = async () => (await colA.locator('.out .tok').allTextContents()).join('');
  await colA.locator('details.more').evaluateAll(ds => ds.forEach(d => { d.open = true; }));

  // --- the newer samplers: each control is sent under its llama.cpp name and changes
  // what is generated (same seed, same prompt otherwise) ---
  async function newerControls() {
    const certain = () => colA.locator('.out .tok').evaluateAll(sp => sp.length > 0 && sp.every(s => Number(s.dataset.p) > 0.999));
    const set = async (pairs) => { for (const [k, v] of Object.entries(pairs)) await field(k).fill(String(v)); };
    const clear = async (...names) => { for (const k of names) await field(k).fill(''); };
    await set({ temperature: 1, top_k: 0, top_p: 1, min_p: 0, max_tokens: 24, seed: 7 });
    await runAndWait();
    const plain = await textA(), plainCertain = await certain();
    check(!('mirostat' in lastBody()) && !('samplers' in lastBody()), 'blank controls are not sent (the server default applies)');
    const probe = async (pairs, what, effect) => {
      await set(pairs);
      await runAndWait();
      const body = lastBody();
      const sent = Object.entries(pairs).every(([k, v]) => JSON.stringify(body[k]) === JSON.stringify(v));
      const ok = await effect();
      check(sent && ok, `${what} (sent ${JSON.stringify(Object.fromEntries(Object.keys(pairs).map(k => [k, body[k]])))})`);
      return textA();
    };
    // mirostat: a target surprise of 0 leaves one candidate per step; tau and eta move it
    await probe({ mirostat: 2, mirostat_tau: 0 }, 'mirostat 2 with tau 0 keeps one candidate per step', async () => !plainCertain && await certain());
    const tau3 = await probe({ mirostat_tau: 3 }, 'mirostat tau 3 samples again', async () => !(await certain()));
    await probe({ mirostat_eta: 0 }, 'mirostat eta 0 (mu never moves) changes the text', async () => (await textA()) !== tau3);
    await probe({ mirostat: 1 }, 'mirostat 1 (the Zipf estimate) changes the text', async () => (await textA()) !== tau3);
    await clear('mirostat', 'mirostat_tau', 'mirostat_eta');
    // top-n-sigma: a tiny sigma keeps only the best logit
    await probe({ top_n_sigma: 0.001 }, 'top-n-sigma 0.001 keeps one candidate per step', certain);
    await clear('top_n_sigma');
    // XTC: removes the top choices above the threshold; a threshold above 0.5 never holds twice
    const xtc = await probe({ xtc_probability: 1, xtc_threshold: 0.05 }, 'XTC probability 1, threshold 0.05 changes the text',
      async () => (await textA()) !== plain);
    // above 0.5 two tokens can never both pass the threshold: nothing is removed, so how
    // often XTC runs no longer matters
    const xtcOff = await probe({ xtc_threshold: 0.6 }, 'XTC threshold 0.6 removes nothing', async () => (await textA()) !== xtc);
    await probe({ xtc_probability: 0.5 }, 'XTC probability 0.5 with threshold 0.6 gives the same text', async () => (await textA()) === xtcOff);
    await clear('xtc_probability', 'xtc_threshold');
    // sampler order: top-k 1 is greedy; an order without top_k samples again
    await probe({ top_k: 1 }, 'top-k 1 is greedy', certain);
    await field('samplers').fill('temperature');
    await runAndWait();
    check(lastBody().samplers === 'temperature' && !(await certain()), `sampler order "temperature" leaves top-k out (sent ${JSON.stringify(lastBody().samplers)})`);
    await field('samplers').fill('');
    await set({ top_k: 0 });
    // DRY, greedy, on a prompt that invites a repeat
    await page.fill('#prompt', 'Lily and Tom went to the park. Lily and Tom went to the park. Lily and Tom');
    await set({ temperature: 0 });
    await runAndWait();
    const rep = await textA();
    const dry = await probe({ dry_multiplier: 0.5, dry_base: 3 }, 'DRY multiplier 0.5, base 3 steers away from the repeat',
      async () => (await textA()) !== rep);
    await probe({ dry_base: 1.01 }, 'DRY base 1.01 (a growth of 1% per repeated token) penalizes less than 3', async () => (await textA()) !== dry);
    await set({ dry_base: 3 });
    await probe({ dry_allowed_length: 50 }, 'DRY allowed length 50 allows the repeat', async () => (await textA()) === rep);
    await set({ dry_allowed_length: 2 });
    await probe({ dry_penalty_last_n: 0 }, 'DRY penalty last n 0 switches it off', async () => (await textA()) === rep);
    await clear('dry_penalty_last_n');
    await field('dry_sequence_breakers').fill('e, a, o, i, u');
    await runAndWait();
    check(JSON.stringify(lastBody().dry_sequence_breakers) === '["e","a","o","i","u"]' && (await textA()) === rep,
      `DRY sequence breakers cut the repeats short (${JSON.stringify(lastBody().dry_sequence_breakers)})`);
    await clear('dry_sequence_breakers', 'dry_multiplier', 'dry_base', 'dry_allowed_length');
    await page.fill('#prompt', 'Once upon a time');
    await set({ temperature: keepTemp, top_k: 40, top_p: 0.95, min_p: 0.05, max_tokens: keepMax2, seed: 42 });
  }

  // --- structured output: a grammar, a JSON Schema, any JSON; masked tokens shown ---
  async function structuredOutput() {
    await field('temperature').fill('0');
    await field('max_tokens').fill('12');
    await field('constraint').selectOption('grammar');
    await field('constraint_text').fill('root ::= "Tom" " and" " Lily"');
    await runAndWait();
    check(lastBody().grammar === 'root ::= "Tom" " and" " Lily"' && (await textA()) === 'Tom and Lily',
      `a GBNF grammar constrains the output (${JSON.stringify(await textA())})`);
    await colA.locator('.out .tok').first().click();
    const wanted = page.locator('#detail h3', { hasText: 'Model wanted (before the grammar)' });
    const nMasked = await page.locator('#detail .alt-bar.masked').count();
    check(await wanted.count() === 1 && nMasked > 0, `the token detail shows what the model wanted, ${nMasked} masked by the grammar`);
    check(await page.locator('#detail .alt-bar.allowed').count() > 0, 'and what the grammar allowed');
    check(/model p \(before grammar\)(<0\.1|[\d.]+)%/.test(await page.textContent('#detail')),
      'the chosen token\'s probability before the grammar is shown');
    check(await colA.locator('.out .tok.constrained').count() > 0, 'a token where the grammar overruled the model is marked');
    const schema = { type: 'object', properties: { a: { type: 'integer', minimum: 0, maximum: 9 } }, required: ['a'], additionalProperties: false };
    await field('constraint').selectOption('json_schema');
    await field('constraint_text').fill(JSON.stringify(schema));
    await field('max_tokens').fill('20');
    await runAndWait();
    const rf = lastBody().response_format || {};
    const js = await textA();
    check(rf.type === 'json_schema' && JSON.stringify(rf.json_schema.schema) === JSON.stringify(schema) && /^\{"a":\d\}$/.test(js),
      `a JSON Schema goes out as response_format json_schema and shapes the output (${js})`);
    await field('constraint').selectOption('json_object');
    await runAndWait();
    check((lastBody().response_format || {}).type === 'json_object' && /^\s*[{[]/.test(await textA()),
      `"any JSON" goes out as response_format json_object (${JSON.stringify((await textA()).slice(0, 30))})`);
    await field('constraint').selectOption('json_schema');
    await field('constraint_text').fill('{"type": "string", "pattern": "a+"}');
    await runAndWait();
    check(/HTTP 400.*pattern/.test(await page.textContent('#error')), 'a schema the server refuses shows its error');
    await field('constraint').selectOption('');
    await field('constraint_text').fill('');
    await field('temperature').fill(keepTemp);
    await field('max_tokens').fill(keepMax2);
  }

  // --- beam search: the beams with their scores, and each step's candidates ---
  async function beamSearch() {
    await field('num_beams').fill('3');
    await field('max_tokens').fill('10');
    await runAndWait();
    const body = lastBody();
    check(body.num_beams === 3 && body.n === 3 && body.stream === false && !('logprobs' in body),
      `beam search asks for every beam, unstreamed (${JSON.stringify({ num_beams: body.num_beams, n: body.n, stream: body.stream })})`);
    const direct = await post('/v1/completions', { prompt: 'Once upon a time', max_tokens: 10, num_beams: 3, n: 3 });
    const rows = colA.locator('.beams .seq');
    check(await rows.count() === 3, `three beams listed (${await rows.count()})`);
    const best = await colA.locator('.out .beamtext').textContent();
    check(best === direct.choices[0].text, `the output shows the best beam (${JSON.stringify(best)})`);
    const stepRows = await colA.locator('.beams table.steps tr').count();
    check(stepRows === direct.inkling_beams.steps.length && stepRows >= 1, `one row per step (${stepRows})`);
    const fates = await colA.locator('.beams .bc').evaluateAll(cs => cs.map(c => c.dataset.fate));
    check(fates.includes('kept') && fates.includes('pruned'), `candidates marked kept and pruned (${fates.length} shown)`);
    // the best beam (ended by the token limit here) is outlined once per step, its pieces its text
    const path = await colA.locator('.beams .bc.best').evaluateAll(cs => cs.map(c => c.firstChild.textContent));
    check(direct.choices[0].finish_reason === 'length' && path.length === stepRows
      && path.join('').replace(/␣/g, ' ').replace(/↵/g, '\n') === direct.choices[0].text,
      `the best beam's path is outlined step by step (${path.length} chips)`);
    const label = async () => (await rows.first().locator('.n').textContent());
    const scored = /score (-?[\d.]+) · logprob (-?[\d.]+)/.exec(await label());
    check(scored && scored[1] !== scored[2], `a beam shows its score and log-probability (${await label()})`);
    await field('length_penalty').fill('0');
    await runAndWait();
    const flat = /score (-?[\d.]+) · logprob (-?[\d.]+)/.exec(await label());
    check(lastBody().length_penalty === 0 && flat && Math.abs(Number(flat[1]) - Number(flat[2])) < 0.011,
      `length penalty 0: the score is the log-probability (${await label()})`);
    check(/generated/.test(await page.textContent('#metrics')) && /done/.test(await colA.locator('.state').textContent()), 'beam run finishes with metrics');
    await field('length_penalty').fill('');
    await field('num_beams').fill('');
    await field('max_tokens').fill(keepMax2);
    await runAndWait();
    check(await colA.locator('.beams .bc').count() === 0 && await colA.locator('.out .tok').count() > 0, 'back to sampling: the beam view is cleared');
  }

  // --- controls: logit bias, typical-p, min tokens, ignore EOS ---
  const temp = colA.locator('input[name="temperature"]');
  const keepTemp = await temp.inputValue(), keepMax2 = await maxTok.inputValue();
  const firstTokenId = async () => {
    await toks.first().click();
    const dl = await page.locator('#detail dl').evaluate(d => {
      const o = {}; const dts = d.querySelectorAll('dt');
      dts.forEach(dt => { o[dt.textContent] = dt.nextElementSibling.textContent; });
      return o;
    });
    return Number(dl['token id']);
  };
  await temp.fill('0');
  await maxTok.fill('8');
  await runAndWait();
  const greedyFirst = await firstTokenId();
  const greedyText = (await toks.allTextContents()).join('');
  await colA.locator('input[name="logit_bias"]').fill(`${greedyFirst}:-100`);
  await runAndWait();
  const biasedFirst = await firstTokenId();
  check(Number.isInteger(greedyFirst) && biasedFirst !== greedyFirst,
    `logit bias -100 bans the greedy first token (${greedyFirst} -> ${biasedFirst})`);
  await colA.locator('input[name="logit_bias"]').fill('');
  // typical-p 0.01 keeps only the most typical token: every final probability is 1
  await temp.fill('1.5');
  await maxTok.fill('16');
  const allCertain = () => toks.evaluateAll(sp => sp.length > 0 && sp.every(s => Number(s.dataset.p) > 0.999));
  await runAndWait();
  const hotCertain = await allCertain();
  await colA.locator('input[name="typical_p"]').fill('0.01');
  await runAndWait();
  check(!hotCertain && await allCertain(), 'typical-p 0.01 leaves one candidate per step (final p = 100%)');
  await colA.locator('input[name="typical_p"]').fill('1');
  // ignore EOS and min tokens: a logit bias of +100 on EOS ends the text at once; ignore
  // EOS runs on to max tokens, min tokens holds the end back that long.
  const eos = (await post('/tokenize', { content: '</s>' })).tokens;
  check(eos.length === 1, `EOS is one token (${eos})`);
  const finishOf = async () => (await colA.locator('.state').textContent());
  const generated = async () => +(/(\d+)generated/.exec(await page.textContent('#metrics')) || [0, -1])[1];
  await temp.fill('0');
  await maxTok.fill('12');
  await colA.locator('input[name="logit_bias"]').fill(`${eos[0]}:100`);
  await runAndWait();
  const nAlone = await generated();
  check(/done \(stop\)/.test(await finishOf()) && nAlone <= 1, `EOS favoured by the bias ends the text at once (${nAlone} tokens)`);
  await colA.locator('input[name="ignore_eos"]').check();
  await runAndWait();
  check(/done \(length\)/.test(await finishOf()) && await generated() === 12,
    `ignore EOS runs on to max tokens (${await finishOf()}, ${await generated()} tokens)`);
  await colA.locator('input[name="ignore_eos"]').uncheck();
  await colA.locator('input[name="min_tokens"]').fill('5');
  await runAndWait();
  const nMin = await generated();
  check(/done \(stop\)/.test(await finishOf()) && nMin >= 5 && nMin <= 6,
    `min tokens 5 holds the end back five tokens (${nMin} tokens)`);
  await colA.locator('input[name="min_tokens"]').fill('0');
  await colA.locator('input[name="logit_bias"]').fill('');
  await temp.fill(keepTemp);
  await maxTok.fill(keepMax2);
  console.log(`     (greedy 8 tokens: ${JSON.stringify(greedyText)})`);
  await newerControls();
  await structuredOutput();
  await beamSearch();

  // --- Compare across models: the same prompt, greedy, one model per column ---
  if (twoModels) {
    await page.check('#compare');
    const pickA = colA.locator('select[name="model"]'), pickB = page.locator('.col[data-side="B"] select[name="model"]');
    const ids = await pickA.locator('option').allTextContents();
    check(ids.length === 2 && await pickA.inputValue() === ids[0] && await pickB.inputValue() === ids[1],
      `each column picks a model (A ${ids[0]}, B ${ids[1]})`);
    await temp.fill('0');
    await page.locator('.col[data-side="B"] input[name="temperature"]').fill('0');
    await maxTok.fill('30');
    await page.locator('.col[data-side="B"] input[name="max_tokens"]').fill('30');
    await runAndWait();
    const textA = (await colA.locator('.out .tok').allTextContents()).join('');
    const textB = (await page.locator('.col[data-side="B"] .out .tok').allTextContents()).join('');
    check(textA !== textB && textA.length > 0 && textB.length > 0,
      `two models, one prompt, two greedy answers (${JSON.stringify(textA.slice(40, 80))} vs ${JSON.stringify(textB.slice(40, 80))})`);
    const names = await page.locator('.col .mname').allTextContents();
    check(names[0] === ids[0] && names[1] === ids[1], `column headings name their model (${names.join(', ')})`);
    // B on the first model gives A's answer: the pick, not the column, decides
    await pickB.selectOption(ids[0]);
    await runAndWait();
    const textB2 = (await page.locator('.col[data-side="B"] .out .tok').allTextContents()).join('');
    check(textB2 === textA, 'both columns on one model give the same greedy answer');
    await pickB.selectOption(ids[1]);
    await maxTok.fill(keepMax2);
    await page.locator('.col[data-side="B"] input[name="max_tokens"]').fill(keepMax2);
    await temp.fill(keepTemp);
    await page.locator('.col[data-side="B"] input[name="temperature"]').fill('1.5');
    await page.uncheck('#compare');
  } else {
    skipped++;
    console.log('skip compare across models: the server serves one model');
  }

  // --- Compare mode: A greedy, B hot, two concurrent requests ---
  await page.check('#compare');
  check(await page.locator('.col[data-side="B"]').isVisible(), 'Compare shows column B');
  const colB = page.locator('.col[data-side="B"]');
  await colA.locator('input[name="temperature"]').fill('0');
  await colB.locator('input[name="temperature"]').fill('1.2');
  await colB.locator('input[name="seed"]').fill('7');
  await runAndWait();
  const err2 = (await page.textContent('#error')).trim();
  check(err2 === '', `no error in Compare mode${err2 ? ': ' + err2 : ''}`);
  for (const [name, col] of [['A', colA], ['B', colB]]) {
    const n = await col.locator('.out .tok').count();
    const text = (await col.locator('.out .tok').allTextContents()).join('');
    check(n >= 3 && text.trim().length > 0, `Compare column ${name} filled (${n} tokens)`);
    check(/tok\/s/.test(await col.locator('.metrics').textContent()), `Compare column ${name} has metrics`);
  }


  // --- error path: the server's validation error reaches #error ---
  // (a negative max_tokens is invalid under any sampler setup)
  await page.uncheck('#compare');
  const keep = await maxTok.inputValue();
  await maxTok.fill('-5');
  await runAndWait();
  const err3 = (await page.textContent('#error')).trim();
  check(/HTTP 4\d\d/.test(err3), `invalid request shows the HTTP error (${err3.slice(0, 90)})`);
  await maxTok.fill(keep);

  // The page renders any OpenAI-shaped error the server sends, e.g. a 503 when
  // the queue is full (intercepted here so the check needs no overloaded server).
  await page.route('**/v1/completions', route => route.fulfill({
    status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: { message: 'server busy', type: 'server_error', param: null, code: null } }),
  }));
  await runAndWait();
  const err4 = (await page.textContent('#error')).trim();
  check(/HTTP 503 server_error: server busy/.test(err4), `5xx error JSON is shown (${err4.slice(0, 60)})`);
  await page.unroute('**/v1/completions');

  // Canned streams for the contract's corner cases, independent of any model:
  // CRLF line ends, a keep-alive comment, a step whose text is held back and
  // released by the next one (split back into two spans), text released by the
  // final chunk, and a stream cut off before its finish reason.
  const step = (i, piece, text, extra = {}) => JSON.stringify({
    id: 'cmpl-t', object: 'text_completion', created: 0, model: 'm',
    choices: [{ index: 0, text, logprobs: null, finish_reason: null }],
    inkling: { index: i, token: 100 + i, piece, prob: 0.5, logprob: Math.log(0.5), raw_prob: 0.4, entropy: 1, raw_entropy: 1.2, ms: 1,
      alternatives: [{ token: 100 + i, text: piece, prob: 0.5, logprob: Math.log(0.5) }, { token: 7, text: 'x', prob: 0.3, logprob: Math.log(0.3) }],
      raw_alternatives: [{ token: 100 + i, text: piece, prob: 0.4, logprob: Math.log(0.4) }], ...extra },
  });
  const final = JSON.stringify({ id: 'cmpl-t', object: 'text_completion', created: 0, model: 'm',
    choices: [{ index: 0, text: '!', logprobs: null, finish_reason: 'length' }],
    usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    inkling_metrics: { ttft_ms: 1, tpot_ms: 2, gen_tps: 500, prompt_tps: 900, prompt_tokens: 3, gen_tokens: 3 } });
  const sse = events => events.map(e => (e.startsWith(':') ? e : 'data: ' + e) + '\r\n\r\n').join('');
  const canned = body => page.route('**/v1/completions', route => route.fulfill({ status: 200, contentType: 'text/event-stream', body }));
  await page.uncheck('#compare');
  await canned(sse([': keep-alive', step(0, ' Hel', ''), step(1, 'lo', ' Hello'), final, '[DONE]']));
  await runAndWait();
  const cannedToks = await colA.locator('.out .tok').allTextContents();
  check(JSON.stringify(cannedToks) === JSON.stringify([' Hel', 'lo', '!']),
    `canned stream: held text split back per step, final text kept (${JSON.stringify(cannedToks)})`);
  check((await page.textContent('#metrics')).includes('500 tok/s'), 'canned stream: server metrics shown');
  await page.unroute('**/v1/completions');
  await canned(sse([step(0, ' Hi', ' Hi')]));
  await runAndWait();
  check(/ended before/.test(await page.textContent('#error')), 'a stream cut off before its finish is reported');
  await page.unroute('**/v1/completions');

  // Screenshot of the Compare run (re-run so the page shows results, not the error).
  await page.check('#compare');
  await page.locator('details.more').evaluateAll(ds => ds.forEach(d => { d.open = false; }));
  await runAndWait();
  // Pin B's least likely token (by the model's probability): the most telling panel.
  const least = await colB.locator('.out .tok').evaluateAll(spans => {
    let best = 0, bestP = 2;
    spans.forEach((s, i) => { const p = Number(s.dataset.rawP ?? s.dataset.p); if (p < bestP) { bestP = p; best = i; } });
    return best;
  });
  await colB.locator('.out .tok').nth(least).click();
  await page.mouse.move(0, 0);
  fs.mkdirSync(path.dirname(path.resolve(shot)), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });
  check(fs.existsSync(shot) && fs.statSync(shot).size > 10_000, `screenshot saved to ${shot}`);

  // Second screenshot: beam search in A, a grammar in B with its first token pinned (what
  // the model wanted, struck where the grammar forbade it).
  const open = (col, title) => col.locator('details.more', { hasText: title }).evaluate(d => { d.open = true; });
  await open(colA, 'beam search');
  await colA.locator('[name="num_beams"]').fill('3');
  await colA.locator('[name="max_tokens"]').fill('14');
  await open(colB, 'structured output');
  await colB.locator('[name="constraint"]').selectOption('grammar');
  await colB.locator('[name="constraint_text"]').fill('root ::= "Tom" " and" " Lily" " went" " to" " the" " park" "."');
  await colB.locator('[name="temperature"]').fill('0');
  await runAndWait();
  await colB.locator('.out .tok').first().click();
  await page.mouse.move(0, 0);
  check(await page.locator('#detail .alt-bar.masked').count() > 0 && await colA.locator('.beams .bc').count() > 0,
    'beams in A and a pinned grammar-constrained token in B');
  const shot2 = shot.replace(/(\.png)?$/, '-beams-grammar.png');
  await page.screenshot({ path: shot2, fullPage: true });
  check(fs.existsSync(shot2) && fs.statSync(shot2).size > 10_000, `screenshot saved to ${shot2}`);

  // Failed-resource lines are the deliberate 4xx/5xx above; anything else is a page bug.
  const scriptErrors = consoleErrors.filter(e => !/Failed to load resource/.test(e));
  check(scriptErrors.length === 0, `no page script errors${scriptErrors.length ? ': ' + scriptErrors.join(' | ') : ''}`);
} catch (e) {
  failed++;
  console.log(`FAIL ${e && e.stack || e}`);
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
}

console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed === 0 && passed > 0 ? 0 : 1);
