/**
 * zod, configured before any schema is built: parsers are not compiled with `new Function`. zod
 * probes for that as each object schema is made, and a Content-Security-Policy without
 * 'unsafe-eval' reports the probe as a violation even though zod catches it (README: Security).
 * Parsing without compiling gives the same results. Every module takes `z` from here, never from
 * 'zod' itself (lint rule): this module's body then runs before any schema is built, whatever the
 * bundler puts in which chunk and whichever page, worker or process loads it first.
 */
import { z } from 'zod';

z.config({ jitless: true });

export { z };
