/** Reading any supported volume file into a Volume: the format is told by content first, then by extension. */
import { InputError, type Volume, makeVolume } from '../volume';
import { type DeclaredSize, gunzipIfNeeded } from './binary';
import { checkVolumeDims } from './limits';
import { mrcDeclaredSize, readMrc, looksLikeMrc } from './mrc';
import { isNifti, niftiDeclaredSize, readNifti } from './nifti';
import { isNpy, npyDeclaredSize, readNpy, writeNpy } from './npy';

export { readNifti, writeNifti, type NiftiWriteOptions } from './nifti';
export { readMrc, writeMrc } from './mrc';
export { readNpy, writeNpy } from './npy';

/** Extensions readVolume accepts (for file pickers and messages); detection itself also looks at content. */
export const SUPPORTED_VOLUME_EXTENSIONS = [
  '.nii',
  '.nii.gz',
  '.mrc',
  '.mrc.gz',
  '.rec',
  '.map',
  '.map.gz',
  '.st',
  '.ali',
  '.npy',
] as const;

const NIFTI_EXT = /\.nii(\.gz)?$/i;
const MRC_EXT = /\.(mrc|rec|map|st|ali)(\.gz)?$/i;
const NPY_EXT = /\.npy(\.gz)?$/i;

/**
 * Reads a NIfTI-1/2, MRC or .npy file, gzipped or not. The data type is kept as stored
 * (uint8 stays Uint8Array), except where NIfTI scaling applies. Throws InputError naming the
 * file when it is not one of these or is corrupt.
 */
export function readVolume(bytes: Uint8Array, name: string): Volume {
  const raw = gunzipIfNeeded(bytes, name, volumeSize(name)); // once; the readers leave non-gzip bytes as they are
  if (isNpy(raw)) return volumeFromNpy(raw, name);
  if (isNifti(raw)) return readNifti(raw, name);
  if (looksLikeMrc(raw)) return readMrc(raw, name);
  // Content did not tell (or the file is damaged): trust the extension, so the reader can say what is wrong.
  if (NIFTI_EXT.test(name)) return readNifti(raw, name);
  if (MRC_EXT.test(name)) return readMrc(raw, name);
  if (NPY_EXT.test(name)) return volumeFromNpy(raw, name);
  throw new InputError(
    `${name}: unknown file type (not NIfTI, MRC or NumPy by its content or name); supported: .nii, .nii.gz, .mrc, .rec, .map, .npy`,
  );
}

/**
 * What the head of a gzipped volume says its content needs (NumPy, NIfTI or MRC header), so that
 * a small .gz that declares a huge volume is refused before it is inflated.
 */
function volumeSize(name: string): DeclaredSize {
  return {
    bytes: 1024,
    size: (head) => (isNpy(head) ? npyDeclaredSize(head, name) : isNifti(head) ? niftiDeclaredSize(head, name) : looksLikeMrc(head) || MRC_EXT.test(name) ? mrcDeclaredSize(head, name) : null),
  };
}

/** A .npy array as a volume: rank 3 is [D, H, W], rank 4 [C, D, H, W], rank 2 a single slice [1, H, W]. */
function volumeFromNpy(bytes: Uint8Array, name: string): Volume {
  const { shape, data } = readNpy(bytes, name);
  if (shape.length < 2 || shape.length > 4) {
    throw new InputError(`${name}: a volume needs a 2D, 3D or 4D array, got shape (${shape.join(', ')})`);
  }
  if (shape.some((d) => d === 0)) throw new InputError(`${name}: the array is empty (shape (${shape.join(', ')})); a volume needs at least one voxel`);
  checkVolumeDims(name, shape, data.BYTES_PER_ELEMENT);
  const volumeShape = shape.length === 2 ? [1, ...shape] : shape;
  return makeVolume(data, volumeShape, { spacing: [1, 1, 1], unit: 'unknown', source: { name, format: 'npy' } });
}

/** The volume's voxels as .npy, with its shape ([D, H, W] or [C, D, H, W]) and dtype. */
export function writeVolumeNpy(vol: Volume): Uint8Array {
  return writeNpy({ shape: vol.shape, data: vol.data });
}
