package io.lcowgd.graphdriver;

/**
 * A graph-driver failure with a category. The message is what dockerd shows the user, so it names the operation
 * and the layer id.
 */
public class GraphDriverException extends RuntimeException {

  /** What kind of failure this is; the protocol edge reports all of them as {@code {"Err": …}}. */
  public enum Category {
    NOT_FOUND,
    ALREADY_EXISTS,
    INVALID_ARGUMENT,
    FAILED_PRECONDITION,
    UNAVAILABLE,
    INTERNAL
  }

  private final Category category;

  public GraphDriverException(Category category, String message) {
    super(message);
    this.category = category;
  }

  public GraphDriverException(Category category, String message, Throwable cause) {
    super(message, cause);
    this.category = category;
  }

  public Category category() {
    return category;
  }

  public static GraphDriverException notFound(String message) {
    return new GraphDriverException(Category.NOT_FOUND, message);
  }

  public static GraphDriverException alreadyExists(String message) {
    return new GraphDriverException(Category.ALREADY_EXISTS, message);
  }

  public static GraphDriverException invalidArgument(String message) {
    return new GraphDriverException(Category.INVALID_ARGUMENT, message);
  }

  public static GraphDriverException failedPrecondition(String message) {
    return new GraphDriverException(Category.FAILED_PRECONDITION, message);
  }
}
