export const PACKAGE_NAME = '@gensynth/train';
