// Per-file setup (vitest setupFiles): removes the folders test/helpers/temp.ts made once the file's tests are done.
import { afterAll } from 'vitest';
import { removeTempDirs } from '../helpers/temp.js';

afterAll(() => removeTempDirs());
