export const PACKAGE_NAME = '@gensynth/models-vae';
