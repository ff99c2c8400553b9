export { freePort } from '../../scripts/lab/free-port.ts';
