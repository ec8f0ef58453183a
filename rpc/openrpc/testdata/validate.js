// Validates an OpenRPC document (the file named by the first argument)
// with validators Parley did not write: @open-rpc/schema-utils-js's
// validateOpenRPCDocument (the OpenRPC meta-schema), and ajv, which
// compiles every params and result schema and checks sample values
// (the second argument: {method: {params: [...good], bad: [...]}}) against
// them. Prints {"valid": bool, "errors": [...], "samples": {...}}.
'use strict';
const fs = require('fs');
const { validateOpenRPCDocument } = require('@open-rpc/schema-utils-js');
const Ajv = require('ajv');

const doc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const samples = process.argv[3] ? JSON.parse(fs.readFileSync(process.argv[3], 'utf8')) : {};
const out = { valid: true, errors: [], samples: {} };

const res = validateOpenRPCDocument(doc);
if (res !== true) {
  out.valid = false;
  out.errors.push(String(res.message || res));
}
const ajv = new Ajv({ strict: false, allErrors: true });
for (const m of doc.methods) {
  const schemas = m.params.map((p) => p.schema).concat(m.result ? [m.result.schema] : []);
  for (const s of schemas) {
    try {
      ajv.compile(s);
    } catch (e) {
      out.valid = false;
      out.errors.push(m.name + ': ' + e.message);
    }
  }
  const sample = samples[m.name];
  if (!sample) continue;
  // A sample of named params is checked field by field against the
  // params' descriptors, required ones included.
  const check = (value) => {
    for (const p of m.params) {
      if (!(p.name in value)) {
        if (p.required) return false;
        continue;
      }
      if (!ajv.validate(p.schema, value[p.name])) return false;
    }
    return true;
  };
  out.samples[m.name] = { good: sample.good.map(check), bad: sample.bad.map(check) };
}
console.log(JSON.stringify(out));
