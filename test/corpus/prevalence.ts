// `npm run corpus:prevalence`: rewrites corpus/prevalence.json from the corpus (a test keeps it equal).
import { writeFileSync } from 'node:fs';
import { PREVALENCE_FILE } from '../../src/engine/prevalence.js';
import { loadCorpus, prevalenceOf } from './score.js';

writeFileSync(PREVALENCE_FILE, `${JSON.stringify(prevalenceOf(loadCorpus()), null, 2)}\n`);
process.stdout.write(`wrote ${PREVALENCE_FILE}\n`);
