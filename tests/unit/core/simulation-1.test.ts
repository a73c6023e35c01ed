// Seeds of the lossy-mesh simulation, shard 1 of 4 (tests/unit/support/seeded-mesh.ts).
import { simulationShard } from '../support/seeded-mesh.js';

simulationShard(1);
