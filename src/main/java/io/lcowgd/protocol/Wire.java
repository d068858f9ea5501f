package io.lcowgd.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.lcowgd.graphdriver.Capabilities;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.graphdriver.IdMap;
import io.lcowgd.graphdriver.StatusLine;
import java.util.List;
import java.util.Map;

/**
 * The JSON bodies of the plugin protocol, with dockerd's exact key names (moby {@code daemon/graphdriver/proxy.go}).
 *
 * <p>Decoding follows Go's {@code encoding/json}: keys match case-insensitively, unknown keys are ignored, omitted or
 * {@code null} fields become zero values (empty string, empty list, empty map), so the driver never sees {@code
 * null}.
 */
final class Wire {
  private Wire() {}

  /** The mapper for every body: case-insensitive keys, unknown keys ignored. */
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE)
          .build();

  /** A request that carries a layer id, checked before the driver is called. */
  interface HasId {
    String id();
  }

  // ---- requests -------------------------------------------------------------------------------------------------

  /** A body with no fields: {@code {}} (Capabilities, Status, Cleanup, Plugin.Activate). */
  record NoArgs() {}

  /** {@code {"Home","Opts","UIDMaps","GIDMaps"}}. */
  record InitRequest(
      @JsonProperty("Home") String home,
      @JsonProperty("Opts") List<String> opts,
      @JsonProperty("UIDMaps") List<WireIdMap> uidMaps,
      @JsonProperty("GIDMaps") List<WireIdMap> gidMaps) {
    InitRequest {
      home = str(home);
      opts = opts == null ? List.of() : opts.stream().map(Wire::str).toList();
      uidMaps = list(uidMaps);
      gidMaps = list(gidMaps);
    }
  }

  /** One entry of {@code UIDMaps}/{@code GIDMaps}: snake_case, as {@code idtools.IDMap}'s JSON tags say. */
  record WireIdMap(
      @JsonProperty("container_id") long containerId,
      @JsonProperty("host_id") long hostId,
      @JsonProperty("size") long size) {
    IdMap toIdMap() {
      return new IdMap(containerId, hostId, size);
    }
  }

  /** {@code {"ID","Parent","MountLabel","StorageOpt"}} of Create and CreateReadWrite. */
  record CreateRequest(
      @JsonProperty("ID") String id,
      @JsonProperty("Parent") String parent,
      @JsonProperty("MountLabel") String mountLabel,
      @JsonProperty("StorageOpt") Map<String, String> storageOpt)
      implements HasId {
    CreateRequest {
      id = str(id);
      parent = str(parent);
      mountLabel = str(mountLabel);
      storageOpt = storageOpt == null ? Map.of() : Map.copyOf(storageOpt);
    }
  }

  /** {@code {"ID"}} of Remove, Put, Exists, GetMetadata. */
  record IdRequest(@JsonProperty("ID") String id) implements HasId {
    IdRequest {
      id = str(id);
    }
  }

  /** {@code {"ID","MountLabel"}} of Get. */
  record GetRequest(@JsonProperty("ID") String id, @JsonProperty("MountLabel") String mountLabel) implements HasId {
    GetRequest {
      id = str(id);
      mountLabel = str(mountLabel);
    }
  }

  /** {@code {"ID","Parent"}} of Diff, Changes, DiffSize; an empty Parent means the layer's own parent. */
  record ParentRequest(@JsonProperty("ID") String id, @JsonProperty("Parent") String parent) implements HasId {
    ParentRequest {
      id = str(id);
      parent = str(parent);
    }
  }

  // ---- responses ------------------------------------------------------------------------------------------------

  /** {@code {}}: success with nothing to say. */
  record Empty() {
    static final Empty INSTANCE = new Empty();
  }

  /** {@code {"Implements":["GraphDriver"]}}. */
  record ActivateResponse(@JsonProperty("Implements") List<String> implementsList) {}

  /** {@code {"Dir":"/abs/path"}}. */
  record DirResponse(@JsonProperty("Dir") String dir) {}

  /** {@code {"Exists":bool}}. */
  record ExistsResponse(@JsonProperty("Exists") boolean exists) {}

  /** {@code {"Status":[["k","v"],...]}}. */
  record StatusResponse(@JsonProperty("Status") List<List<String>> status) {
    static StatusResponse of(List<StatusLine> lines) {
      return new StatusResponse(
          lines == null ? List.of() : lines.stream().map(l -> List.of(str(l.key()), str(l.value()))).toList());
    }
  }

  /** {@code {"Metadata":{"k":"v"}}}. */
  record MetadataResponse(@JsonProperty("Metadata") Map<String, String> metadata) {
    MetadataResponse {
      metadata = metadata == null ? Map.of() : metadata;
    }
  }

  /** {@code {"Changes":[{"Path":"/x","Kind":0|1|2}]}}. */
  record ChangesResponse(@JsonProperty("Changes") List<WireChange> changes) {
    static ChangesResponse of(List<Change> changes) {
      return new ChangesResponse(
          changes == null ? List.of() : changes.stream().map(c -> new WireChange(c.path(), c.kind().code())).toList());
    }
  }

  /** One change: {@code {"Path","Kind"}}. */
  record WireChange(@JsonProperty("Path") String path, @JsonProperty("Kind") int kind) {}

  /** {@code {"Size":n}} of ApplyDiff and DiffSize. */
  record SizeResponse(@JsonProperty("Size") long size) {}

  /** {@code {"Capabilities":{"ReproducesExactDiffs":bool}}}: nested, as {@code proxy.go} decodes it. */
  record CapabilitiesResponse(@JsonProperty("Capabilities") WireCapabilities capabilities) {
    static CapabilitiesResponse of(Capabilities c) {
      return new CapabilitiesResponse(new WireCapabilities(c != null && c.reproducesExactDiffs()));
    }
  }

  /** {@code {"ReproducesExactDiffs":bool}}. */
  record WireCapabilities(@JsonProperty("ReproducesExactDiffs") boolean reproducesExactDiffs) {}

  /** {@code {"Err":"message"}}: every failure. */
  record ErrorResponse(@JsonProperty("Err") String err) {}

  private static String str(String s) {
    return s == null ? "" : s;
  }

  private static <T> List<T> list(List<T> l) {
    return l == null ? List.of() : List.copyOf(l);
  }
}
