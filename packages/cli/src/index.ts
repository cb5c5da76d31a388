export const PACKAGE_NAME = '@gensynth/cli';
