// Reads {"patterns":[[source, flags], ...], "texts":[...]} on stdin and prints, for every
// pattern, either {"error": message} or {"matches": [bool per text]} using the JavaScript
// engine's own RegExp. Used by TestJavaScriptEngineAgrees (prefilter package).
'use strict';
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const out = req.patterns.map(([source, flags]) => {
    let re;
    try {
      re = new RegExp(source, flags);
    } catch (e) {
      return { error: String(e.message) };
    }
    return { matches: req.texts.map((t) => { re.lastIndex = 0; return re.test(t); }) };
  });
  process.stdout.write(JSON.stringify(out));
});
