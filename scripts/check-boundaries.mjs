/**
 * `npm run lint:boundaries`: dependency-cruiser's rules (.dependency-cruiser.cjs) over src/. Its API, not its CLI:
 * the CLI refuses Node 20, which CI and the quick start still run, though the cruise itself works there.
 */
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const options = await extractDepcruiseOptions('./.dependency-cruiser.cjs');
const tsConfig = extractTSConfig('./tsconfig.json');
const result = await cruise(
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src'],
  {
    ...options,
    outputType: 'err',
  },
  undefined,
  { tsConfig },
);
process.stdout.write(result.output);
process.exitCode = result.exitCode;
