// MSBuild inline task (see Directory.Build.targets): marks libLibTorchSharp.so's need for
// GLIBCXX_3.4.32 as weak when the system libstdc++ does not provide that version.
using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenGlibcxxNeed : Task
{
    const string Needed = "GLIBCXX_3.4.32";
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    [Required] public string Directory { get; set; } = "";

    public override bool Execute()
    {
        if (!System.IO.Directory.Exists(Directory)) return true;
        var libs = System.IO.Directory.GetFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        if (libs.Length == 0 || SystemHasVersion()) return true;
        foreach (var lib in libs)
        {
            try
            {
                if (Patch(lib))
                    Log.LogMessage(MessageImportance.High,
                        $"ddpm: marked {Needed} as weak in {lib} (system libstdc++ lacks it; see docs/platform.md)");
            }
            catch (Exception e)
            {
                Log.LogWarning($"ddpm: could not patch {lib}: {e.Message}");
            }
        }
        return true;
    }

    static bool SystemHasVersion()
    {
        string[] dirs = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib" };
        var marker = Encoding.ASCII.GetBytes(Needed + "\0");
        foreach (var d in dirs)
        {
            var path = Path.Combine(d, "libstdc++.so.6");
            if (File.Exists(path)) return IndexOf(File.ReadAllBytes(path), marker) >= 0;
        }
        return false;
    }

    static int IndexOf(byte[] hay, byte[] needle)
    {
        for (int i = 0; i <= hay.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    // ELF64 little-endian: walk .gnu.version_r (Elf64_Verneed -> Elf64_Vernaux) and set VER_FLG_WEAK
    // on the entry naming GLIBCXX_3.4.32. Returns false when there is nothing to change.
    static bool Patch(string path)
    {
        var b = File.ReadAllBytes(path);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F' || b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        ulong shoff = BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3a), shnum = BitConverter.ToUInt16(b, 0x3c);
        Func<int, long> sh = i => (long)shoff + (long)i * shentsize;
        bool changed = false;
        for (int i = 0; i < shnum; i++)
        {
            if (BitConverter.ToUInt32(b, (int)sh(i) + 4) != ShtGnuVerneed) continue;
            long off = (long)BitConverter.ToUInt64(b, (int)sh(i) + 0x18);
            int link = (int)BitConverter.ToUInt32(b, (int)sh(i) + 0x28);
            long strtab = (long)BitConverter.ToUInt64(b, (int)sh(link) + 0x18);
            long vn = off;
            while (true)
            {
                int cnt = BitConverter.ToUInt16(b, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(b, (int)vn + 8);
                for (int k = 0; k < cnt; k++)
                {
                    long nameOff = strtab + BitConverter.ToUInt32(b, (int)aux + 8);
                    int end = Array.IndexOf(b, (byte)0, (int)nameOff);
                    var name = Encoding.ASCII.GetString(b, (int)nameOff, end - (int)nameOff);
                    ushort flags = BitConverter.ToUInt16(b, (int)aux + 4);
                    if (name == Needed && (flags & VerFlgWeak) == 0)
                    {
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(b, (int)aux + 4);
                        changed = true;
                    }
                    uint nextAux = BitConverter.ToUInt32(b, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(b, (int)vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        if (!changed) return false;
        // Write beside and rename: the output file may be a hard link into the NuGet cache.
        var tmp = path + ".ddpm-tmp";
        File.WriteAllBytes(tmp, b);
        File.Delete(path);
        File.Move(tmp, path);
        return true;
    }
}
