export { freePort } from '@mcp-lab/launcher';
