// `npm start`: the tour. It reproduces each technique's claims numerically with the library's own
// kernels, section by section (lib/tour/sections/), printing one table per article and writing
// plots as SVG files; see lib/tour/driver.ts for the flags (--section, --quick, --out, --list).
import { runTour } from './driver.js';
import { SECTIONS } from './sections/index.js';

process.exitCode = await runTour(process.argv.slice(2), SECTIONS);
