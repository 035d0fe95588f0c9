// The one free-port helper of the tests: the server's own (src/util/free-port.ts), so both ask the kernel the same way.
export { freePort } from '../../src/util/free-port.js';
