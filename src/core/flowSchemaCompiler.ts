/**
 * Compiles the closed flow schema with ajv. Kept apart from flowSchema.ts so that the build
 * (scripts/build.mjs) can put in dist/ a module with the same export whose validator ajv compiled
 * at build time (ajv's standalone code): the compiled CLI then neither loads ajv's compiler nor
 * spends about 120 ms compiling on each start. The sources (tests, tsx) compile here, once per run of the program.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** ajv's options for the flow schema; the build's standalone compile uses the same (with code.source). */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false } as const;

/** The validator of `closedSchema` (flowSchema.ts closes the published schema first). */
export function compileFlowSchema(closedSchema: object): ValidateFunction {
  // strictTypes/strictRequired are off because if/then branches name properties of the object they refine.
  return new Ajv2020(AJV_OPTIONS).compile(closedSchema);
}
