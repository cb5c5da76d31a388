export const PACKAGE_NAME = '@gensynth/metrics';
