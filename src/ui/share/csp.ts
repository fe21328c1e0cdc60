/**
 * Imported first by src/main.tsx: zod compiles object schemas with `new Function` when it may,
 * and finds out by trying it as each schema is built — which the Content-Security-Policy blocks
 * and reports (README: Security). Parsing without compiling is as correct; this must run before
 * any module builds a schema.
 */
import { z } from 'zod';

z.config({ jitless: true });
