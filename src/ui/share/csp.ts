/**
 * Imported first by src/main.tsx: zod configured without `new Function` (src/core/zod.ts does it
 * for every module that takes `z` from there; this import keeps the page's first module saying so).
 */
import '../../core/zod';
