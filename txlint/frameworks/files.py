"""File and object-storage writes: they cannot be rolled back with the database."""

from typing import Optional

from txlint.frameworks import Knowledge
from txlint.values import CallView, Outcome, Value, effect

LIBRARY = "files"

_WRITING_MODES = set("wax+")
_OS_WRITES = {"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copyfileobj", "shutil.copytree"}
_OS_MOVES = {"os.rename", "os.replace", "os.renames", "shutil.move"}
_OS_DELETES = {"os.remove", "os.unlink"}
_TREE_DELETES = {"shutil.rmtree", "os.rmdir", "os.removedirs"}  # directories: scratch space, not files rows name
_PATH_CLASSES = {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.WindowsPath"}
_PATH_WRITES = {"write_text", "write_bytes", "touch"}
_PATH_MOVES = {"rename", "replace"}
_PATH_DELETES = {"unlink", "rmdir"}
_OBJECT_WRITES = {"upload_file", "upload_fileobj", "put_object", "copy_object", "upload_from_filename",
                  "upload_from_string", "upload_from_file", "put", "copy"}
_OBJECT_DELETES = {"delete_object", "delete_objects", "delete"}
_STORAGE_WRITES = {"save"}
# Libraries that write a file of their own format to a path.
_SERIALIZER_WRITES = {"joblib.dump", "numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.savetxt",
                      "scipy.sparse.save_npz", "torch.save"}
_IMAGE_MAKERS = {"PIL.Image.open", "PIL.Image.new", "PIL.Image.fromarray", "PIL.ImageOps.exif_transpose",
                 "PIL.ImageOps.fit", "PIL.ImageOps.contain"}
_IMAGE_TRANSFORMS = {"convert", "resize", "crop", "rotate", "transpose", "copy", "thumbnail_copy", "quantize"}



class FilesKnowledge(Knowledge):
    library = LIBRARY
    roots = ("builtins", "os", "shutil", "pathlib", "boto3", "google", "io", "aiofiles", "joblib", "numpy", "scipy",
             "torch", "PIL")

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        if qname in ("builtins.open", "io.open", "aiofiles.open"):
            mode = call.string(1, "mode") or "r"
            if _WRITING_MODES & set(mode):
                return effect("file_write", LIBRARY)
            return None
        if qname in _OS_WRITES or qname in _SERIALIZER_WRITES:
            return effect("file_write", LIBRARY)
        if qname in _IMAGE_MAKERS:
            return Outcome(value=Value("fileobj", name="image", library=LIBRARY))
        if qname in _OS_MOVES:
            return effect("file_write", LIBRARY, how="move")
        if qname in _OS_DELETES:
            return effect("file_delete", LIBRARY)
        if qname in _TREE_DELETES:
            return effect("file_delete", LIBRARY, how="tree")
        if qname in _PATH_CLASSES:
            return Outcome(value=Value("fileobj", name="path", library=LIBRARY))
        if qname in ("boto3.client", "boto3.resource", "boto3.session.Session.client",
                     "google.cloud.storage.Client"):
            return Outcome(value=Value("fileobj", name="object_store", library=LIBRARY))
        return None

    def attribute(self, value: Value, name: str) -> Optional[Value]:
        if value.kind == "fileobj" and value.name == "fieldfile" and name == "storage":
            return Value("fileobj", name="storage", library=LIBRARY)  # `doc.file.storage.save(...)`
        return None

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        if value.kind != "fileobj" or value.library != LIBRARY:
            return None
        if value.name == "path":
            if name in _PATH_WRITES:
                return effect("file_write", LIBRARY)
            if name in _PATH_MOVES:
                return effect("file_write", LIBRARY, how="move")
            if name in _PATH_DELETES:
                return effect("file_delete", LIBRARY)
            if name == "open":
                mode = call.string(0, "mode") or "r"
                return effect("file_write", LIBRARY) if _WRITING_MODES & set(mode) else None
            if name in ("with_name", "with_suffix", "joinpath", "resolve", "absolute", "expanduser"):
                return Outcome(value=value)
            return None
        if value.name == "image":  # a PIL image: `save(path)` writes it, transforms give another image
            if name == "save":
                return effect("file_write", LIBRARY)
            return Outcome(value=value) if name in _IMAGE_TRANSFORMS else None
        if value.name == "object_store":
            if name in _OBJECT_WRITES:
                return effect("file_write", LIBRARY)
            if name in _OBJECT_DELETES:
                return effect("file_delete", LIBRARY)
            if name in ("Bucket", "Object", "bucket", "blob", "get_bucket", "Client", "client"):
                return Outcome(value=value)
            return None
        if value.name in ("storage", "fieldfile"):
            # A file field's save()/delete() also saves its row unless told `save=False`; told so,
            # it only sets the stored name on the instance ("unsaved_field"), for a save after it.
            how = "orm"
            if value.name == "fieldfile":
                how = "field" if call.const("save") != "False" else "unsaved_field"
            if name in _STORAGE_WRITES:
                return effect("file_write", LIBRARY, how=how)
            if name == "delete":
                return effect("file_delete", LIBRARY, how=how)
        return None
