/**
 * The on-disk layer store, in the original LCOW driver's layout:
 *
 * <pre>
 * &lt;root&gt;/&lt;id&gt;/layerchain.json   parents' folder paths, nearest first (JSON array of absolute paths)
 * &lt;root&gt;/&lt;id&gt;/layer.vhd         an image layer: ext4 + fixed-VHD footer (after ApplyDiff)
 * &lt;root&gt;/&lt;id&gt;/sandbox.vhdx      a read-write layer: ext4 in a VHDX, changes under upper/
 * &lt;root&gt;/cache/                 cached blank sandbox templates
 * &lt;root&gt;/scratch/               service-VM scratch disks (stale ones deleted at start)
 * &lt;root&gt;/mnt/&lt;id&gt;              where Get mounts a layer (made by the driver)
 * &lt;root&gt;/.staging/             layers and files under construction (deleted at start)
 * &lt;root&gt;/&lt;id&gt;-removing          a layer being removed (deleted at start and on Cleanup)
 * </pre>
 *
 * <p>Crash safety: a layer directory appears only complete (built in {@code .staging}, files and directories
 * fsynced, then renamed into place); files added later ({@code layer.vhd}, a first {@code sandbox.vhdx}) are
 * written under {@code .staging}, fsynced and hard-linked into place, so they too appear only complete; removal
 * renames to {@code <id>-removing} first. A kill at any moment therefore leaves either the old or the new state,
 * plus debris that {@link LayerStore#open} deletes. The entry point is {@link LayerStore}.
 */
package io.lcowgd.layerstore;
