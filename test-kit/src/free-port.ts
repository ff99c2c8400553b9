export { freePort, freePorts } from '@mcp-lab/launcher';
