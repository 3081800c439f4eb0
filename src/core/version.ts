/** This Lava's version (package.json's), for `lava --version` and the directory entries of live processes. */
export const VERSION = '0.1.0';
