export const PACKAGE_NAME = '@gensynth/data';
