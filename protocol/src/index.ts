export * from './www-authenticate.ts';
export * from './bearer-error.ts';
export * from './metadata.ts';
export * from './resource.ts';
