// Running from src/ (tests, `pnpm dmasim`), worker threads start without the TypeScript loader the
// CLI runs under: load the worker through tsx. The built package starts dist/explore/worker.js.
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('./worker.ts', import.meta.url);
export default mod.default;
