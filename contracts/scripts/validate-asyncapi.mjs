#!/usr/bin/env node
// Validates an AsyncAPI document with the official AsyncAPI parser (@asyncapi/parser), the
// engine behind `asyncapi validate` of @asyncapi/cli, without the CLI's 400 MB of extras.
//
// Usage: node scripts/validate-asyncapi.mjs path/to/asyncapi.yaml
// Prints every diagnostic; exits 1 if any is an error or the document cannot be parsed.
//
// Payload schemas are JSON Schema draft 2020-12 (schemaFormat
// application/schema+json;version=2020-12). AsyncAPI 3 allows any schema format, but the
// parser neither ships a parser for this one nor checks schemas of formats it does not know,
// so this script registers one: for every payload (after $ref resolution) it checks the schema
// against the 2020-12 meta-schema with Ajv and compiles it; a broken schema is an error.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const JSON_SCHEMA_2020_12 = [
  'application/schema+json;version=2020-12',
  'application/schema+yaml;version=2020-12',
  'application/schema;version=2020-12',
];

const SEVERITY = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'info',
  [DiagnosticSeverity.Hint]: 'hint',
};

function jsonSchema202012Parser(problems) {
  return {
    getMimeTypes: () => JSON_SCHEMA_2020_12,
    validate: checkSchema,
    parse(input) {
      // The parser calls parse() for every multi-format schema of a 3.x document, validate()
      // only for 2.x documents: so check here.
      problems.push(...checkSchema(input));
      return input.data;
    },
  };
}

function checkSchema(input) {
  // A fresh instance per schema: referenced files are inlined with their own $id.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  if (!ajv.validateSchema(input.data)) {
    return ajv.errors.map((error) => ({
      message: `not a JSON Schema 2020-12: ${error.instancePath || '/'} ${error.message}`,
      path: input.path,
    }));
  }
  try {
    ajv.compile(withoutNestedIds(input.data));
  } catch (error) {
    return [{ message: `JSON Schema does not compile: ${error.message}`, path: input.path }];
  }
  return [];
}

// After $ref resolution the referenced files sit inline, each with its $id; drop the nested
// ones so Ajv does not register one id twice (the references are already resolved).
function withoutNestedIds(schema, depth = 0) {
  if (Array.isArray(schema)) return schema.map((item) => withoutNestedIds(item, depth + 1));
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => !(key === '$id' && depth > 0))
      .map(([key, value]) => [key, withoutNestedIds(value, depth + 1)]),
  );
}

async function main() {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: validate-asyncapi.mjs <asyncapi.yaml>');
    return 2;
  }
  const source = path.resolve(file);
  const schemaProblems = [];
  const parser = new Parser({ schemaParsers: [jsonSchema202012Parser(schemaProblems)] });
  const parsed = await parser.parse(await readFile(source, 'utf8'), { source });
  const diagnostics = [
    ...parsed.diagnostics,
    ...schemaProblems.map((problem) => ({
      code: 'json-schema-2020-12',
      severity: DiagnosticSeverity.Error,
      path: problem.path,
      message: problem.message,
    })),
  ];
  let errors = 0;
  for (const diagnostic of diagnostics) {
    if (diagnostic.severity === DiagnosticSeverity.Error) errors += 1;
    const severity = SEVERITY[diagnostic.severity] ?? String(diagnostic.severity);
    const where = diagnostic.path.length ? diagnostic.path.join('.') : '(document)';
    const line = diagnostic.range ? `:${diagnostic.range.start.line + 1}` : '';
    console.log(`${severity} ${diagnostic.code} ${where}${line}: ${diagnostic.message}`);
  }
  const document = parsed.document;
  if (document === undefined || errors > 0) {
    console.log(`${source}: INVALID (${errors} error(s), ${diagnostics.length} diagnostic(s))`);
    return 1;
  }
  console.log(
    `${source}: valid AsyncAPI ${document.version()} (${document.channels().length} channels, ` +
      `${document.operations().length} operations, ${diagnostics.length} diagnostic(s))`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error?.stack ?? String(error));
    process.exit(1);
  },
);
