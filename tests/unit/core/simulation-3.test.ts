// Seeds of the lossy-mesh simulation, shard 3 of 4 (tests/unit/support/seeded-mesh.ts).
import { simulationShard } from '../support/seeded-mesh.js';

simulationShard(3);
